//! Shared fixtures of the relay's integration tests: a throw-away dist directory that looks
//! like a Trunk release build.

#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the fixtures"
)]

pub mod services;
pub mod stream;
pub mod ws;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Name of the fixture's hashed JavaScript module, as Trunk would emit it.
pub const HASHED_JS: &str = "web-app-1a2b3c4d5e6f7a8b.js";
/// Name of the fixture's hashed wasm module, as Trunk would emit it.
pub const HASHED_WASM: &str = "web-app-1a2b3c4d5e6f7a8b_bg.wasm";
/// Body of the fixture's `index.html`.
pub const INDEX_HTML: &str = "<!DOCTYPE html><html><head><title>mdsim test</title></head>\
                              <body><canvas id=\"map\"></canvas></body></html>\n";
/// Bytes of the fixture's `precompressed.js.br`: not real brotli, so a test can tell the
/// sibling file from on-the-fly compression.
pub const FAKE_BR: &[u8] = b"fake brotli sibling";
/// Bytes of the fixture's `precompressed.js.gz`.
pub const FAKE_GZ: &[u8] = b"fake gzip sibling";

/// A directory under the system temp dir, unique to this process and call, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates an empty directory whose name contains `label`.
    pub fn new(label: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "relay-server-test-{label}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        Self(path)
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `contents` to `name` under the directory, creating parent directories.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent dir");
        }
        std::fs::write(path, contents).expect("write fixture file");
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A large, compressible JavaScript body (about 20 KB).
pub fn big_js() -> String {
    "export function f(x) { return x * 2; }\n".repeat(500)
}

/// A dist directory like the output of `trunk build --release`.
pub fn dist_fixture() -> TempDir {
    let dir = TempDir::new("dist");
    dir.write("index.html", INDEX_HTML);
    dir.write(HASHED_JS, big_js());
    dir.write(HASHED_WASM, b"\0asm\x01\0\0\0");
    dir.write("style.css", "body { margin: 0; }\n");
    dir.write("precompressed.js", big_js());
    dir.write("precompressed.js.br", FAKE_BR);
    dir.write("precompressed.js.gz", FAKE_GZ);
    dir
}
