//! The Illinois variant of regula falsi (Dowell & Jarratt, BIT 11, 1971): a bracketed root
//! finder that halves the function value kept at a stale end, so convergence stays superlinear.
//! Shared by the impact search of a flight and the range search of the targeting solver.

/// A bracket `(a, b)` whose function values `fa`, `fb` have opposite signs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Illinois {
    /// One end of the bracket.
    pub a: f64,
    /// The function's value at `a`.
    pub fa: f64,
    /// The other end (the latest point).
    pub b: f64,
    /// The function's value at `b`.
    pub fb: f64,
}

impl Illinois {
    /// The next point to evaluate: the secant through both ends.
    pub fn next(&self) -> f64 {
        self.b - self.fb * (self.b - self.a) / (self.fb - self.fa)
    }

    /// Takes the value `fc` at the point `c` returned by [`Illinois::next`].
    pub fn update(&mut self, c: f64, fc: f64) {
        if fc * self.fb < 0.0 {
            self.a = self.b;
            self.fa = self.fb;
        } else {
            self.fa *= 0.5;
        }
        self.b = c;
        self.fb = fc;
    }
}
