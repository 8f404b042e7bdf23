//! Finding and installing the tools the build and the tests need, idempotently.
//!
//! Each `ensure_*` first looks for the tool at the pinned version and installs it only when it
//! is missing or reports another version. Installs come from the package registries only:
//! crates.io (`cargo install`), Debian (`apt-get`, when running as root) and npm (`npm ci`
//! against the committed lock file).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{Result, root};

/// The Trunk release that builds with the stable toolchain here (0.22 needs rustc 1.96.1).
pub const TRUNK_VERSION: &str = "0.21.14";
/// The wasm-pack release verified here (`--mode no-install` runs offline).
pub const WASM_PACK_VERSION: &str = "0.15.1";
/// binaryen's release whose `wasm-opt` (npm package `binaryen`, `xtask/binaryen`) the release
/// build runs; `Trunk.toml` asks Trunk for exactly this one (`[tools] wasm_opt`).
pub const WASM_OPT_VERSION: &str = "132";
/// Where Debian's `nats-server` package puts the server (not on a non-root `PATH`).
const NATS_SERVER: &str = "/usr/sbin/nats-server";
/// Prometheus, from Debian's `prometheus` (the relay's scrape test starts one).
const PROMETHEUS: &str = "/usr/bin/prometheus";
/// PostgreSQL 15's `initdb`, from `postgresql-15`.
const POSTGRES_INITDB: &str = "/usr/lib/postgresql/15/bin/initdb";
/// PostGIS's extension file, from `postgresql-15-postgis-3`.
const POSTGIS_CONTROL: &str = "/usr/share/postgresql/15/extension/postgis.control";

/// Paths of the tools, once found or installed.
pub struct Toolchain {
    /// `cargo` (the one running this xtask).
    pub cargo: PathBuf,
    /// `trunk`, at [`TRUNK_VERSION`].
    pub trunk: PathBuf,
    /// `node`, for wasm-opt and the precompression of the release build, the browser tests
    /// and `wasm-bindgen-test-runner`.
    pub node: PathBuf,
    /// The `PATH` given to every child: cargo's bin directory first, so the pinned
    /// `wasm-bindgen` and `wasm-bindgen-test-runner` are the ones Trunk and cargo find.
    path: std::ffi::OsString,
}

impl Toolchain {
    /// Finds or installs everything the build needs; with `browser`, also what the tests need
    /// (Node.js, Chromium and ChromeDriver, Playwright).
    pub fn ensure(browser: bool) -> Result<Toolchain> {
        let mut tools = Toolchain::found()?;
        tools.ensure_wasm_target()?;
        tools.ensure_wasm_bindgen()?;
        tools.ensure_trunk()?;
        tools.ensure_wasm_opt()?;
        if browser {
            tools.ensure_wasm_pack()?;
            tools.ensure_debian_packages()?;
            tools.node = which("node", &tools.path).ok_or(
                "Node.js is missing: install it (`apt-get install nodejs npm`) and run again",
            )?;
            tools.ensure_playwright()?;
        }
        Ok(tools)
    }

    /// Finds or installs what building the wasm package of sim-core needs (the wasm32 target
    /// and the pinned `wasm-bindgen` CLI), without Trunk or the browser tools.
    pub fn ensure_wasm_package() -> Result<Toolchain> {
        let tools = Toolchain::found()?;
        tools.ensure_wasm_target()?;
        tools.ensure_wasm_bindgen()?;
        Ok(tools)
    }

    /// Finds or installs what timing the sim-core wasm package in headless Chromium needs
    /// (`cargo xtask bench --only chromium`): the package's build tools (the wasm32 target,
    /// `wasm-bindgen`, wasm-pack), Node.js, Chromium and Playwright, without Trunk or the
    /// services the relay's tests start.
    pub fn ensure_chromium_runner() -> Result<Toolchain> {
        let mut tools = Toolchain::found()?;
        tools.ensure_wasm_target()?;
        tools.ensure_wasm_bindgen()?;
        tools.ensure_wasm_pack()?;
        tools.install_debian(&tools.missing_browser_packages())?;
        tools.node = which("node", &tools.path)
            .ok_or("Node.js is missing: install it (`apt-get install nodejs npm`) and run again")?;
        tools.ensure_playwright()?;
        Ok(tools)
    }

    /// Finds or installs what the soak (`cargo xtask soak`) needs besides cargo: nats-server
    /// and PostgreSQL 15 with PostGIS, without the web or browser tools.
    pub fn ensure_services() -> Result<Toolchain> {
        let tools = Toolchain::found()?;
        let mut missing = Vec::new();
        if which("nats-server", &tools.path).is_none() && !Path::new(NATS_SERVER).is_file() {
            missing.push("nats-server");
        }
        if !Path::new(POSTGRES_INITDB).is_file() || !Path::new(POSTGIS_CONTROL).is_file() {
            missing.push("postgresql-15-postgis-3");
        }
        tools.install_debian(&missing)?;
        Ok(tools)
    }

    /// The `PATH` for children: cargo's bin directory first.
    pub fn path(&self) -> &std::ffi::OsStr {
        &self.path
    }

    /// Runs `cargo` with these arguments in the workspace root.
    pub fn cargo(&self, args: &[&str]) -> Result {
        self.run(Command::new(&self.cargo).current_dir(root()).args(args))
    }

    /// The tools where they are expected, nothing checked or installed yet.
    fn found() -> Result<Toolchain> {
        let cargo = std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from);
        let bin = cargo_bin_dir();
        let mut paths = vec![bin.clone()];
        paths.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let path = std::env::join_paths(paths).map_err(|e| format!("bad PATH: {e}"))?;
        Ok(Toolchain {
            cargo,
            trunk: bin.join("trunk"),
            node: PathBuf::from("node"),
            path,
        })
    }

    /// Runs a command with the toolchain's `PATH`; a failure names the command.
    pub fn run(&self, cmd: &mut Command) -> Result {
        cmd.env("PATH", &self.path);
        let shown = format!(
            "{} {}",
            cmd.get_program().to_string_lossy(),
            cmd.get_args()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" ")
        );
        println!("$ {shown}");
        let status = cmd
            .status()
            .map_err(|e| format!("cannot run `{shown}`: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`{shown}` exited with {status}"))
        }
    }

    /// The first line a tool prints for `--version`, if it runs at all.
    fn version_of(&self, program: &Path, arg: &str) -> Option<String> {
        let out = Command::new(program)
            .arg(arg)
            .env("PATH", &self.path)
            .stderr(Stdio::null())
            .output()
            .ok()?;
        out.status.success().then(|| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
    }

    fn ensure_wasm_target(&self) -> Result {
        let sysroot = Command::new("rustc")
            .args(["--print", "sysroot"])
            .env("PATH", &self.path)
            .output()
            .map_err(|e| format!("rustc is missing ({e}): install Rust with rustup"))?;
        let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
        if sysroot.join("lib/rustlib/wasm32-unknown-unknown").is_dir() {
            return Ok(());
        }
        println!("installing the wasm32-unknown-unknown target");
        self.run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
            .map_err(|e| {
                format!("{e}; install the target with `rustup target add wasm32-unknown-unknown`")
            })
    }

    fn ensure_wasm_bindgen(&self) -> Result {
        let wanted = locked_version("wasm-bindgen")?;
        let bin = cargo_bin_dir();
        let runner = bin.join("wasm-bindgen-test-runner");
        let have = self.version_of(&bin.join("wasm-bindgen"), "--version");
        if have.as_deref() == Some(&format!("wasm-bindgen {wanted}")) && runner.exists() {
            return Ok(());
        }
        println!("installing wasm-bindgen-cli {wanted} (must match Cargo.lock exactly)");
        let locked = self.cargo(&[
            "install",
            "wasm-bindgen-cli",
            "--version",
            &wanted,
            "--locked",
        ]);
        if locked.is_err() {
            // The registry mirror here lacks some versions named in the CLI's own lock file
            // (seen: webpki-roots 1.0.11); resolving afresh builds the same CLI.
            println!(
                "retrying without --locked (a pinned dependency is missing from the registry)"
            );
            self.cargo(&["install", "wasm-bindgen-cli", "--version", &wanted])?;
        }
        Ok(())
    }

    fn ensure_trunk(&self) -> Result {
        if self.version_of(&self.trunk, "--version").as_deref()
            == Some(&format!("trunk {TRUNK_VERSION}"))
        {
            return Ok(());
        }
        println!("installing trunk {TRUNK_VERSION} (about 10 minutes on two cores)");
        self.cargo(&["install", "trunk", "--version", TRUNK_VERSION, "--locked"])
    }

    /// wasm-pack, which packages sim-core for any web page or Node program (`js` feature).
    fn ensure_wasm_pack(&self) -> Result {
        let have = self.version_of(&cargo_bin_dir().join("wasm-pack"), "--version");
        if have.as_deref() == Some(&format!("wasm-pack {WASM_PACK_VERSION}")) {
            return Ok(());
        }
        println!("installing wasm-pack {WASM_PACK_VERSION}");
        self.cargo(&[
            "install",
            "wasm-pack",
            "--version",
            WASM_PACK_VERSION,
            "--locked",
        ])
    }

    /// Chromium, ChromeDriver, Node.js, nats-server, PostgreSQL 15 with PostGIS and
    /// Prometheus from Debian, when missing and when we may install.
    fn ensure_debian_packages(&self) -> Result {
        let mut missing = self.missing_browser_packages();
        // The relay's tests against real services (tests/nats.rs, tests/events.rs) start
        // these on loopback; Debian installs them without starting anything.
        if which("nats-server", &self.path).is_none() && !Path::new(NATS_SERVER).is_file() {
            missing.push("nats-server");
        }
        if !Path::new(POSTGRES_INITDB).is_file() || !Path::new(POSTGIS_CONTROL).is_file() {
            missing.push("postgresql-15-postgis-3");
        }
        if which("prometheus", &self.path).is_none() && !Path::new(PROMETHEUS).is_file() {
            missing.push("prometheus");
        }
        self.install_debian(&missing)
    }

    /// The Debian packages of Chromium, ChromeDriver and Node.js that are not installed.
    fn missing_browser_packages(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if !Path::new("/usr/bin/chromium").exists() {
            missing.extend(["chromium", "chromium-driver"]);
        }
        if which("node", &self.path).is_none() || which("npm", &self.path).is_none() {
            missing.extend(["nodejs", "npm"]);
        }
        missing
    }

    /// Installs `missing` Debian packages when running as root, or says how to.
    fn install_debian(&self, missing: &[&str]) -> Result {
        if missing.is_empty() {
            return Ok(());
        }
        if !is_root() {
            return Err(format!(
                "the tests (or the Chromium benchmark) need {}: install them with \
                 `sudo apt-get install -y {}` and run again",
                missing.join(", "),
                missing.join(" ")
            ));
        }
        println!("installing Debian packages: {}", missing.join(" "));
        self.run(
            Command::new("apt-get")
                .args(["update", "-qq"])
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )?;
        self.run(
            Command::new("apt-get")
                .args(["install", "-y", "-qq", "--no-install-recommends"])
                .args(missing)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
    }

    /// binaryen's `wasm-opt` at [`WASM_OPT_VERSION`] for Trunk's release build: `npm ci` in
    /// `xtask/binaryen` (npm's registry, or npm's cache when offline) when it is absent or not
    /// the locked version, then its `node_modules/.bin` first on the children's `PATH`, so
    /// Trunk finds it before any other `wasm-opt` (Debian's 108 produces broken wasm; Trunk
    /// would refuse it anyway, `Trunk.toml` pinning the version).
    fn ensure_wasm_opt(&mut self) -> Result {
        let dir = root().join("xtask/binaryen");
        let bin = dir.join("node_modules/.bin");
        let wanted = format!("version_{WASM_OPT_VERSION}");
        let reports = |tools: &Toolchain| {
            tools
                .version_of(&bin.join("wasm-opt"), "--version")
                .is_some_and(|v| v.contains(&format!("({wanted})")))
        };
        if which("node", &self.path).is_none() || which("npm", &self.path).is_none() {
            self.install_debian(&["nodejs", "npm"])
                .map_err(|e| format!("the release build's wasm optimiser needs Node.js: {e}"))?;
        }
        self.node = which("node", &self.path).ok_or(
            "Node.js is missing: the release build's wasm-opt runs on it; install it with \
             `apt-get install nodejs npm`",
        )?;
        if !reports(self) {
            let npm = which("npm", &self.path).ok_or(
                "npm is missing: the release build's wasm-opt comes from npm; install it with \
                 `apt-get install nodejs npm`",
            )?;
            println!(
                "installing binaryen {WASM_OPT_VERSION} (wasm-opt) from npm into xtask/binaryen"
            );
            self.run(Command::new(npm).current_dir(&dir).args([
                "ci",
                "--prefer-offline",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
            ]))
            .map_err(|e| {
                format!(
                    "wasm-opt {WASM_OPT_VERSION} is missing and npm could not install it in \
                     xtask/binaryen ({e}); run `npm ci` there once with access to the npm registry"
                )
            })?;
            if !reports(self) {
                return Err(format!(
                    "xtask/binaryen/node_modules/.bin/wasm-opt does not report {wanted}: delete \
                     xtask/binaryen/node_modules and run again"
                ));
            }
        }
        let mut paths = vec![bin];
        paths.extend(std::env::split_paths(&self.path));
        self.path = std::env::join_paths(paths).map_err(|e| format!("bad PATH: {e}"))?;
        Ok(())
    }

    /// `npm ci` in `tests/browser` when `playwright-core` is absent or not the locked version.
    fn ensure_playwright(&self) -> Result {
        let dir = root().join("tests/browser");
        let lock = std::fs::read_to_string(dir.join("package-lock.json"))
            .map_err(|e| format!("tests/browser/package-lock.json is unreadable: {e}"))?;
        let installed =
            std::fs::read_to_string(dir.join("node_modules/playwright-core/package.json"))
                .unwrap_or_default();
        let wanted = json_version_after(&lock, "\"node_modules/playwright-core\"");
        let have = json_version_after(&installed, "\"name\"");
        if wanted.is_some() && wanted == have {
            return Ok(());
        }
        let npm = which("npm", &self.path)
            .ok_or("npm is missing: install it with `apt-get install npm`")?;
        self.run(
            Command::new(npm)
                .current_dir(&dir)
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"),
        )
    }
}

/// `wrk`, the HTTP load generator of the REST benchmark: found on `PATH`, or installed from
/// Debian when running as root (`apt-get install wrk`).
pub fn ensure_wrk() -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    if let Some(wrk) = which("wrk", &path) {
        return Ok(wrk);
    }
    if !is_root() {
        return Err("wrk is missing: install it with `sudo apt-get install -y wrk`".to_string());
    }
    println!("installing wrk from Debian");
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run apt-get: {e}"))
    };
    let installed = apt(&["install", "-y", "-qq", "--no-install-recommends", "wrk"])?;
    if !installed.success() {
        // The package lists may be missing or stale: refresh them once and retry.
        apt(&["update", "-qq"])?;
        apt(&["install", "-y", "-qq", "--no-install-recommends", "wrk"])?;
    }
    which("wrk", &path)
        .or_else(|| Some(PathBuf::from("/usr/bin/wrk")).filter(|p| p.is_file()))
        .ok_or_else(|| "wrk is missing and `apt-get install wrk` did not install it".to_string())
}

/// `$CARGO_HOME/bin`, where `cargo install` puts tools.
fn cargo_bin_dir() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
        .join("bin")
}

/// The version of `package` recorded in the workspace's `Cargo.lock`.
pub fn locked_version(package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("Cargo.lock is unreadable ({e}); run `cargo generate-lockfile`"))?;
    let needle = format!("name = \"{package}\"\n");
    let at = lock
        .find(&needle)
        .ok_or(format!("{package} is not in Cargo.lock"))?;
    lock[at + needle.len()..]
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("version = \""))
        .and_then(|l| l.strip_suffix('"'))
        .map(str::to_string)
        .ok_or(format!("Cargo.lock has no version line for {package}"))
}

/// The `"version": "x"` value that follows `anchor` in a JSON text (enough for npm's files).
fn json_version_after(text: &str, anchor: &str) -> Option<String> {
    let rest = &text[text.find(anchor)?..];
    let rest = &rest[rest.find("\"version\"")? + "\"version\"".len()..];
    let start = rest.find('"')? + 1;
    let end = start + rest[start..].find('"')?;
    Some(rest[start..end].to_string())
}

fn which(program: &str, path: &std::ffi::OsStr) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_locked_wasm_bindgen_version() {
        let v = locked_version("wasm-bindgen").unwrap();
        assert!(v.starts_with("0.2."), "{v}");
    }

    #[test]
    fn trunk_and_npm_pin_the_same_wasm_opt() {
        let trunk = std::fs::read_to_string(root().join("Trunk.toml")).unwrap();
        assert!(
            trunk.contains(&format!("wasm_opt = \"version_{WASM_OPT_VERSION}\"")),
            "Trunk.toml must ask for wasm-opt version_{WASM_OPT_VERSION}"
        );
        let lock =
            std::fs::read_to_string(root().join("xtask/binaryen/package-lock.json")).unwrap();
        assert_eq!(
            json_version_after(&lock, "\"node_modules/binaryen\"").as_deref(),
            Some(format!("{WASM_OPT_VERSION}.0.0").as_str())
        );
    }

    #[test]
    fn finds_npm_versions() {
        let lock = r#"{"packages": {"node_modules/playwright-core": {"version": "1.65.1"}}}"#;
        assert_eq!(
            json_version_after(lock, "\"node_modules/playwright-core\"").as_deref(),
            Some("1.65.1")
        );
        assert_eq!(json_version_after("{}", "\"name\""), None);
    }
}
