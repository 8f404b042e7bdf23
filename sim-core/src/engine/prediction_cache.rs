//! Command and control's predicted trajectories: each threat's flight from the tracker's
//! estimate, sampled for the envelope search ([`predict_samples`]), and the cache that reuses
//! a prediction while its inputs are unchanged ([`PredictionCache`]).

use std::sync::Arc;

use nalgebra::Vector3;

use super::defense::MAX_PREDICTION_SAMPLES;
use crate::tracking::TrackId;
use crate::tracking::motion::{self, BallisticModel};
use crate::tracking::predictor;

/// Samples the predicted trajectory of a track state `x` (ECEF, 7-state) taken at `t0_s`,
/// from `t0_s` until it falls below the ground or `until_s`, at most
/// [`MAX_PREDICTION_SAMPLES`] of them at least a second apart: the filter's ballistic motion
/// model flown by the fast predictor ([`crate::tracking::predictor`]), so the plan uses what
/// the command center believes.
pub fn predict_samples(
    model: &BallisticModel,
    x: &motion::State,
    t0_s: f64,
    until_s: f64,
) -> Vec<(f64, Vector3<f64>)> {
    let span = (until_s - t0_s).max(0.0);
    let step = (span / (MAX_PREDICTION_SAMPLES as f64 - 2.0)).max(1.0);
    predictor::samples(model, x, t0_s, until_s, step, MAX_PREDICTION_SAMPLES)
}

/// The predicted trajectory of each threat file at the last command and control pass, with the
/// exact inputs it was computed from (estimate time, state and horizon, compared bit for bit):
/// a pass reuses a prediction whose inputs have not changed (a track coasting out of radar
/// coverage, or deleted, keeps its estimate), so the result is identical to recomputing it.
/// Derived data: it compares equal to any other cache, and a restored snapshot starts empty.
#[derive(Debug, Clone, Default)]
pub struct PredictionCache {
    pub(super) entries: Vec<CachedPrediction>,
    /// Predictions reused and computed since the simulation started (for benchmarks).
    pub hits_misses: (u64, u64),
}

/// A predicted trajectory's samples (t s, ECEF m) and their heights above the ellipsoid (m),
/// shared by the cache and the passes using it: the heights are taken once per prediction, not
/// once per pass.
pub(super) type Samples = Arc<PredictedPath>;

/// A predicted trajectory: its samples and their heights.
#[derive(Debug)]
pub(super) struct PredictedPath {
    /// (t s, ECEF m), increasing in time.
    pub(super) samples: Vec<(f64, Vector3<f64>)>,
    /// Height above the ellipsoid of each sample (m).
    pub(super) altitudes_m: Vec<f64>,
}

#[derive(Debug, Clone)]
pub(super) struct CachedPrediction {
    track: TrackId,
    key: [u64; 9],
    samples: Samples,
}

impl PartialEq for PredictionCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl PredictionCache {
    /// The samples of `track`'s prediction from `x` at `t0_s` until `until_s`, reused when the
    /// same inputs were predicted at the previous pass; `keep` collects the entries of this
    /// pass.
    pub(super) fn get(
        &mut self,
        keep: &mut Vec<CachedPrediction>,
        model: &BallisticModel,
        track: TrackId,
        x: &[f64; 7],
        t0_s: f64,
        until_s: f64,
    ) -> Samples {
        let mut key = [0u64; 9];
        key[0] = t0_s.to_bits();
        key[1] = until_s.to_bits();
        for (k, v) in key[2..].iter_mut().zip(x) {
            *k = v.to_bits();
        }
        let samples = match self
            .entries
            .binary_search_by_key(&track, |e| e.track)
            .ok()
            .filter(|&i| self.entries[i].key == key)
        {
            Some(i) => {
                self.hits_misses.0 += 1;
                Arc::clone(&self.entries[i].samples)
            }
            None => {
                self.hits_misses.1 += 1;
                let x = motion::State::from_column_slice(x);
                let samples = predict_samples(model, &x, t0_s, until_s);
                let altitudes_m = samples
                    .iter()
                    .map(|(_, r)| model.ellipsoid.altitude_m(r))
                    .collect();
                Arc::new(PredictedPath {
                    samples,
                    altitudes_m,
                })
            }
        };
        keep.push(CachedPrediction {
            track,
            key,
            samples: Arc::clone(&samples),
        });
        samples
    }
}
