//! Running the relay as a process: logging, start-up checks, binding, serving and graceful
//! shutdown.
//!
//! Invariants: logs go to stderr; stdout carries exactly one line, `listening on
//! http://ADDR:PORT`, printed once the socket accepts connections, so scripts can wait for it
//! and read the real port when `--port 0` was given. Ctrl-C and SIGTERM stop accepting
//! connections at once and let open ones finish for at most `--shutdown-timeout` seconds;
//! then events still waiting for NATS or the database get up to 5 more seconds.
//!
//! Connections are served by hyper's HTTP/1.1 server directly (axum's `serve` does not expose
//! its settings): a request head must arrive whole within `--header-timeout` (a kept-alive
//! connection idle that long is closed too, so slow or idle clients cannot hold sockets), and
//! at most `--max-connections` connections are served at once; the rest wait in the
//! operating system's accept queue. Request bodies and error answers are limited by the
//! router's layers ([`crate::limits`]).

use std::future::Future;
use std::io::{IsTerminal, Write};
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};
use crate::error::StartupError;
use crate::{AppState, app};

/// Longest wait, after the last connection closed, for events still on their way to NATS or
/// the database.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Installs the global `tracing` subscriber writing to stderr in the configured format.
pub fn init_logging(config: &Config) -> Result<(), StartupError> {
    // The filter was validated when the configuration was parsed.
    let filter = EnvFilter::try_new(&config.log_level)
        .map_err(|err| StartupError::Logging(err.to_string()))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match config.log_format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder.json().with_current_span(true).try_init(),
    };
    installed.map_err(|err| StartupError::Logging(err.to_string()))
}

/// Fails with [`StartupError::MissingDist`] when the dist directory has no `index.html`,
/// unless `--allow-missing-dist` was given, in which case it only warns.
pub fn check_dist(config: &Config) -> Result<(), StartupError> {
    if config.index_html().is_file() {
        return Ok(());
    }
    let err = StartupError::MissingDist {
        dir: config.dist_dir.clone(),
    };
    if config.allow_missing_dist {
        tracing::warn!(
            "{err}; starting anyway because of --allow-missing-dist, /readyz answers 503"
        );
        Ok(())
    } else {
        Err(err)
    }
}

/// Binds the configured address, turning failures into actionable errors.
pub async fn bind(config: &Config) -> Result<TcpListener, StartupError> {
    let addr = config.socket_addr();
    TcpListener::bind(addr)
        .await
        .map_err(|err| StartupError::from_bind(addr, err))
}

/// Runs the relay until Ctrl-C or SIGTERM: checks the build, binds, announces the URL, serves.
pub async fn run(config: Config) -> Result<(), StartupError> {
    check_dist(&config)?;
    let listener = bind(&config).await?;
    let local = listener
        .local_addr()
        .map_err(|err| StartupError::from_bind(config.socket_addr(), err))?;
    let url = format!("http://{local}");
    // NATS and the database are set up first (at most a few seconds when they are down), so
    // the announced URL is ready to serve.
    let dist_dir = config.dist_dir.display().to_string();
    let state = AppState::start(config).await?;
    tracing::info!(%url, %dist_dir, version = env!("CARGO_PKG_VERSION"), "listening on {url}");
    announce(&url);
    serve(listener, state, shutdown_signal()).await
}

/// Prints the one stdout line scripts wait for.
fn announce(url: &str) {
    let mut stdout = std::io::stdout().lock();
    // A closed stdout must not stop the server: the log line says the same.
    let _ = writeln!(stdout, "listening on {url}");
    let _ = stdout.flush();
}

/// Serves `state`'s app on `listener` until `shutdown` completes, then drains open
/// connections for at most the configured shutdown timeout.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = &'static str> + Send + 'static,
) -> Result<(), StartupError> {
    let grace = state.config().shutdown_timeout();
    let limits = ConnectionLimits {
        header_timeout: state.config().header_timeout(),
        max_connections: state.config().max_connections,
    };
    let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel::<()>();
    let closing = state.clone();
    let drain_state = state.clone();
    let server = accept_loop(listener, app(state), limits, async move {
        let signal = shutdown.await;
        tracing::info!("received {signal}; finishing open requests, then stopping");
        closing.begin_shutdown();
        let _ = signalled_tx.send(());
    });
    let deadline = async move {
        match signalled_rx.await {
            Ok(()) => tokio::time::sleep(grace).await,
            // The server ended without a signal: only its own result matters.
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = server => {}
        () = deadline => tracing::warn!(
            "connections still open after {}s; stopping anyway",
            grace.as_secs()
        ),
    }
    let left = drain_state.bus().drain(grace.min(DRAIN_TIMEOUT)).await;
    if left > 0 {
        tracing::warn!("{left} events were not delivered to NATS or the database before exit");
    }
    tracing::info!("stopped");
    Ok(())
}

/// The limits enforced where connections are served.
#[derive(Debug, Clone, Copy)]
struct ConnectionLimits {
    /// Time to send a whole request head; a kept-alive connection waiting for its next
    /// request is closed after it too.
    header_timeout: Duration,
    /// HTTP connections served at once.
    max_connections: u32,
}

/// Accepts connections (at most `limits.max_connections` served at once) until `signal`
/// completes, then asks every open connection to finish its request and waits for them.
async fn accept_loop(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    signal: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections as usize));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut signal = pin!(signal);
    loop {
        let slot = tokio::select! {
            biased;
            () = &mut signal => break,
            slot = slots.clone().acquire_owned() => slot,
        };
        let Ok(slot) = slot else { break };
        let stream = tokio::select! {
            biased;
            () = &mut signal => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    accept_failed(err).await;
                    continue;
                }
            },
        };
        let connection = serve_connection(
            stream,
            router.clone(),
            limits.header_timeout,
            stop_rx.clone(),
        );
        tokio::spawn(async move {
            connection.await;
            drop(slot);
        });
    }
    drop(listener);
    stop_tx.send_replace(true);
    // Every connection holds a slot until it ends.
    let _ = slots.acquire_many(limits.max_connections).await;
}

/// Waits after a failed `accept`: not at all when only that connection failed, a second
/// when the process is out of file descriptors (accepting again at once would spin).
async fn accept_failed(err: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        err.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!("accepting a connection failed: {err}; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Serves one connection with HTTP/1.1 (upgrades to websockets included) until it closes,
/// or until `stop` turns true: then the request in progress finishes and it closes.
async fn serve_connection(
    stream: TcpStream,
    router: Router,
    header_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let connection = builder
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(router))
        .with_upgrades();
    let mut connection = pin!(connection);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(err) = result {
                    // A client that went away or was too slow: not the relay's failure.
                    tracing::debug!("connection ended: {err}");
                }
                break;
            }
            _ = stop.wait_for(|stop| *stop), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM, naming the signal.
pub async fn shutdown_signal() -> &'static str {
    let ctrl_c = async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => "Ctrl-C",
            Err(err) => {
                tracing::warn!("cannot listen for Ctrl-C: {err}");
                std::future::pending().await
            }
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
                "SIGTERM"
            }
            Err(err) => {
                tracing::warn!("cannot listen for SIGTERM: {err}");
                std::future::pending().await
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<&'static str>();

    tokio::select! {
        name = ctrl_c => name,
        name = terminate => name,
    }
}
