//! One websocket connection to a room: `GET /ws/rooms/{id}`.
//!
//! Before the upgrade: the room must exist (404), and a browser's `Origin` must be the relay's
//! own host or one of `--allowed-origin` (403); a request without `Origin` (not a browser) is
//! allowed. After it, the connection task:
//! - expects `hello` first; with the room's token and a role other than observer the member
//!   may send commands, otherwise it only watches; a wrong token closes the connection; in the
//!   public room (no token needed) a hello with `--operator-token` makes the member an operator,
//!   the only kind of member who may set the public room's clock;
//! - decodes every text message with [`sim_core::protocol::decode`] and answers a refused one
//!   with an `error` message (never a crash, never a close for a single bad message);
//! - solves a launch command that carries no guidance (with the relay's [`crate::solver`],
//!   like REST launches) and orders it with the solved guidance, so the referee and every
//!   client fly it without solving; a launch that carries guidance has its flight checked the
//!   same way; a target out of reach, guidance the referee would refuse or a solver with a
//!   full waiting line is answered with an error and ordered nowhere;
//! - takes one token per message from a [`TokenBucket`]; messages over the budget are dropped
//!   with an error;
//! - pings every heartbeat interval and closes a connection silent for three intervals;
//! - writes what the room queued for it; when the room drops the queue (eviction), closes.
//!
//! Invariant: the room never waits for this task (it only `try_send`s), and this task never
//! waits on the socket longer than the heartbeat timeout.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use sim_core::Command;
use sim_core::protocol::{
    self, ClientMessage, MAX_CLIENT_MESSAGE_BYTES, Member, ProtocolError, Role, ServerMessage,
};
use sim_core::targeting::TargetingRequest;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::rate::TokenBucket;
use super::{RoomHandle, RoomRequest, RoomSettings};
use crate::AppState;
use crate::error::ApiError;
use crate::metrics::RoomMetrics;
use crate::solver::{SolveError, Solver};

/// Frames or messages larger than this end the connection with close code 1009 ("message too
/// big"); messages between [`MAX_CLIENT_MESSAGE_BYTES`] and this get an `error` answer instead.
const MAX_FRAME_BYTES: usize = 4 * MAX_CLIENT_MESSAGE_BYTES;

/// `GET /ws/rooms/{id}`: checks the room and the origin, then upgrades.
pub async fn upgrade(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let rooms = state.rooms();
    if !origin_allowed(&headers, &rooms.settings().allowed_origins) {
        rooms.metrics().refuse("forbidden");
        return Err(ApiError::Forbidden(
            "this page's origin may not open room websockets; serve it from the relay or pass \
             --allowed-origin"
                .into(),
        ));
    }
    let room = rooms.find(&id).await?;
    let settings = rooms.settings().clone();
    let metrics = rooms.metrics().clone();
    let solver = state.solver().clone();
    let shutdown = state.shutdown_watch();
    Ok(ws
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| async move {
            metrics.connections.inc();
            Connection::new(socket, room, settings, metrics.clone(), solver)
                .run(shutdown)
                .await;
            metrics.connections.dec();
        }))
}

/// Whether a websocket read failed because a frame or message was over the size limit.
fn is_too_big(err: &axum::Error) -> bool {
    use tokio_tungstenite::tungstenite::Error;
    std::error::Error::source(err)
        .and_then(|inner| inner.downcast_ref::<Error>())
        .is_some_and(|e| matches!(e, Error::Capacity(_)))
}

/// Whether the request's `Origin`, if any, is the relay's own host or an allowed origin.
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    if allowed.contains(&origin) {
        return true;
    }
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_ascii_lowercase);
    matches!((authority, host), (Some(a), Some(h)) if a == h)
}

struct Connection {
    socket: WebSocket,
    room: Arc<RoomHandle>,
    settings: RoomSettings,
    metrics: RoomMetrics,
    solver: Solver,
    member: Option<Member>,
    /// Held until hello, then handed to the room.
    outbound_tx: Option<mpsc::Sender<Utf8Bytes>>,
    outbound: mpsc::Receiver<Utf8Bytes>,
    bucket: TokenBucket,
    /// Whether the last message was dropped by the rate limit (one error per run of drops).
    limited: bool,
    /// Joined the public room with the operator token.
    operator: bool,
    last_heard: Instant,
}

/// How the connection should go on after a message.
enum Flow {
    Continue,
    Close(u16, &'static str),
}

impl Connection {
    fn new(
        socket: WebSocket,
        room: Arc<RoomHandle>,
        settings: RoomSettings,
        metrics: RoomMetrics,
        solver: Solver,
    ) -> Self {
        let (tx, rx) = mpsc::channel(settings.queue);
        let now = Instant::now();
        Self {
            socket,
            room,
            bucket: TokenBucket::new(settings.rate_per_s, settings.burst, now.into_std()),
            settings,
            metrics,
            solver,
            member: None,
            outbound_tx: Some(tx),
            outbound: rx,
            limited: false,
            operator: false,
            last_heard: now,
        }
    }

    fn timeout(&self) -> Duration {
        self.settings.heartbeat * 3
    }

    async fn run(mut self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut heartbeat = tokio::time::interval(self.settings.heartbeat);
        heartbeat.reset();
        // A shutdown that began before this connection did is seen at once.
        shutdown.mark_changed();
        let close = loop {
            tokio::select! {
                incoming = self.socket.recv() => {
                    let message = match incoming {
                        Some(Ok(message)) => message,
                        // A frame or message over the limit: say so (1009) before closing.
                        Some(Err(err)) if is_too_big(&err) => {
                            self.metrics.refuse("oversize");
                            break Some((close_code::SIZE, "message too big"));
                        }
                        Some(Err(_)) | None => break None,
                    };
                    self.last_heard = Instant::now();
                    match self.on_message(message).await {
                        Flow::Continue => {}
                        Flow::Close(code, reason) => break Some((code, reason)),
                    }
                }
                queued = self.outbound.recv() => match queued {
                    Some(text) => {
                        if !self.send(Message::Text(text)).await {
                            break None;
                        }
                    }
                    // Only the room held the sender: it evicted this member, or it closed (its
                    // owner relay is gone).
                    None if self.room.is_closed() => {
                        break Some((close_code::AWAY, self.room.stopped().unwrap_or("the room closed")));
                    }
                    None => break Some((close_code::AGAIN, "evicted: too slow to keep up with the room")),
                },
                // A closed channel (state dropped) also means the relay is going away.
                changed = shutdown.changed() => {
                    if changed.is_err() || *shutdown.borrow_and_update() {
                        break Some((close_code::AWAY, "the relay is shutting down"));
                    }
                }
                _ = heartbeat.tick() => {
                    if self.last_heard.elapsed() > self.timeout() {
                        break Some((close_code::AWAY, "no heartbeat"));
                    }
                    if !self.send(Message::Ping(Default::default())).await {
                        break None;
                    }
                }
            }
        };
        if let Some(member) = &self.member {
            self.room
                .send(RoomRequest::Leave { member: member.id })
                .await;
        }
        if let Some((code, reason)) = close {
            let frame = CloseFrame {
                code,
                reason: reason.into(),
            };
            let _ = self.send(Message::Close(Some(frame))).await;
        }
    }

    /// Sends with the heartbeat timeout; `false` if the socket failed or stalled.
    async fn send(&mut self, message: Message) -> bool {
        matches!(
            tokio::time::timeout(self.timeout(), self.socket.send(message)).await,
            Ok(Ok(()))
        )
    }

    async fn reply(&mut self, message: ServerMessage) -> Flow {
        self.metrics.messages_out.inc();
        if self.send(Message::Text(message.to_json().into())).await {
            Flow::Continue
        } else {
            Flow::Close(close_code::AWAY, "send failed")
        }
    }

    async fn refuse(&mut self, reason: &'static str, message: String) -> Flow {
        self.metrics.refuse(reason);
        self.reply(ServerMessage::Error { message }).await
    }

    async fn on_message(&mut self, message: Message) -> Flow {
        let text = match message {
            Message::Text(text) => Some(text),
            Message::Binary(_) => None,
            Message::Close(_) => return Flow::Close(close_code::NORMAL, "bye"),
            Message::Ping(_) | Message::Pong(_) => return Flow::Continue,
        };
        self.metrics.messages_in.inc();
        if !self.bucket.try_take(Instant::now().into_std()) {
            self.metrics.refuse("rate-limited");
            if !self.limited {
                self.limited = true;
                return self
                    .reply(ServerMessage::Error {
                        message: format!(
                            "rate limit exceeded ({} messages per second); messages are dropped \
                             until you slow down",
                            self.settings.rate_per_s
                        ),
                    })
                    .await;
            }
            return Flow::Continue;
        }
        self.limited = false;
        let Some(text) = text else {
            return self
                .refuse(
                    "malformed",
                    "binary messages are not part of the protocol; send JSON text".into(),
                )
                .await;
        };
        let decoded = match protocol::decode(text.as_str()) {
            Ok(m) => m,
            Err(err) => {
                let reason = match err {
                    ProtocolError::TooLarge { .. } => "oversize",
                    ProtocolError::Malformed(_)
                    | ProtocolError::UnsupportedVersion { .. }
                    | ProtocolError::Invalid(_) => "malformed",
                };
                return self.refuse(reason, err.to_string()).await;
            }
        };
        match (decoded, self.member.clone()) {
            (ClientMessage::Hello { name, role, token }, None) => {
                self.hello(name.trim().to_string(), role, token).await
            }
            (ClientMessage::Hello { .. }, Some(_)) => {
                self.refuse("order", "already joined; hello is sent once".into())
                    .await
            }
            (_, None) => {
                self.refuse(
                    "order",
                    "send hello first: {\"v\":1,\"type\":\"hello\",\"name\":...,\"role\":...}"
                        .into(),
                )
                .await
            }
            (ClientMessage::Command { command }, Some(member)) => {
                if !member.can_command {
                    let why = if member.role == Role::Observer {
                        "observers cannot send commands; join as attacker or defender with the \
                         room token"
                    } else {
                        "this connection cannot send commands: join with the room token"
                    };
                    return self.refuse("forbidden", why.into()).await;
                }
                let (command, applied) = match presolve(&self.solver, command).await {
                    Ok(checked) => checked,
                    Err(message) => return self.refuse("unreachable", message).await,
                };
                self.forward(RoomRequest::Command {
                    member: member.id,
                    command,
                    applied,
                })
                .await
            }
            (ClientMessage::Hash { tick, hash }, Some(member)) => {
                self.forward(RoomRequest::Hash {
                    member: member.id,
                    tick,
                    hash,
                })
                .await
            }
            (ClientMessage::Sync {}, Some(member)) => {
                self.forward(RoomRequest::Sync { member: member.id }).await
            }
            (ClientMessage::Clock { paused, speed }, Some(member)) => {
                // The public room's clock is its operators' alone, whatever their role.
                let public = !self.room.is_private();
                if public && !self.operator {
                    return self
                        .refuse("forbidden", super::room::PUBLIC_CLOCK_REFUSED.into())
                        .await;
                }
                if !public && !member.can_command {
                    let why = if member.role == Role::Observer {
                        "observers cannot pause or change the speed; join as attacker or \
                         defender with the room token"
                    } else {
                        "this connection cannot pause or change the speed: join with the room \
                         token"
                    };
                    return self.refuse("forbidden", why.into()).await;
                }
                self.forward(RoomRequest::Clock {
                    member: member.id,
                    paused,
                    speed,
                })
                .await
            }
            (ClientMessage::Ping { nonce }, Some(_)) => {
                let tick = self.room.tick();
                let (paused, speed) = self.room.clock();
                self.reply(ServerMessage::Pong {
                    nonce,
                    tick,
                    paused,
                    speed,
                })
                .await
            }
        }
    }

    async fn forward(&mut self, request: RoomRequest) -> Flow {
        if self.room.send(request).await {
            Flow::Continue
        } else {
            Flow::Close(close_code::AWAY, "the room closed")
        }
    }

    async fn hello(&mut self, name: String, role: Role, token: Option<String>) -> Flow {
        // Asks the owner relay when the room lives elsewhere.
        let grants = match self.room.grants(token.as_deref()).await {
            Ok(grants) => grants,
            Err(err) => {
                let _ = self
                    .reply(ServerMessage::Error {
                        message: err.to_string(),
                    })
                    .await;
                return Flow::Close(close_code::AWAY, "the room is unavailable");
            }
        };
        if token.is_some() && !grants {
            self.metrics.refuse("forbidden");
            let _ = self
                .reply(ServerMessage::Error {
                    message: "wrong room token".into(),
                })
                .await;
            return Flow::Close(close_code::POLICY, "wrong room token");
        }
        let can_command = role != Role::Observer && grants;
        self.operator = self
            .room
            .operates(token.as_deref(), self.settings.operator_token.as_ref());
        let Some(outbound) = self.outbound_tx.take() else {
            return Flow::Close(close_code::ERROR, "internal: no queue");
        };
        let (reply, answer) = oneshot::channel();
        let request = RoomRequest::Join {
            name,
            role,
            can_command,
            operator: self.operator,
            outbound,
            reply,
        };
        if !self.room.send(request).await {
            return Flow::Close(close_code::AWAY, "the room closed");
        }
        match answer.await {
            Ok(Ok(member)) => {
                self.member = Some(member);
                Flow::Continue
            }
            Ok(Err(message)) => {
                let _ = self.reply(ServerMessage::Error { message }).await;
                Flow::Close(close_code::AGAIN, "could not join")
            }
            Err(_) => Flow::Close(close_code::AWAY, "the room closed"),
        }
    }
}

/// A launch without guidance gets the solved guidance, and every launch the outcome of flying
/// its guidance as the referee will; other commands pass unchanged. The error is one
/// sentence for the client.
async fn presolve(
    solver: &Solver,
    command: Command,
) -> Result<(Command, Option<crate::rooms::Applied>), String> {
    // Every command is named: a new one must be judged here (does the relay need to solve or
    // fly something before ordering it?), not passed on by a wildcard.
    let mut launch = match command {
        Command::Launch(launch) => launch,
        other @ (Command::PlaceRadar(_)
        | Command::MoveRadar { .. }
        | Command::RemoveRadar { .. }
        | Command::PlaceBattery(_)
        | Command::RemoveBattery { .. }
        | Command::PlaceAsset(_)
        | Command::RemoveAsset { .. }
        | Command::SetDoctrine(_)) => return Ok((other, None)),
    };
    let request = TargetingRequest {
        kind: launch.missile,
        from: launch.from,
        to: launch.to,
        profile: launch.profile,
    };
    let checked = solver
        .check(request, launch.guidance)
        .await
        .map_err(|e| match e {
            SolveError::Refused(e) => format!("launch refused: {e}"),
            SolveError::Busy => {
                "the relay is solving as many launches as it can; try again in a second".into()
            }
            SolveError::Failed(why) => why,
        })?;
    let applied = checked
        .applied
        .map_err(|why| format!("launch refused: {why}"))?;
    launch.guidance = Some(checked.solution.guidance);
    Ok((Command::Launch(launch), Some(Ok(applied))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(origin: Option<&'static str>, host: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static(host));
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_static(o));
        }
        h
    }

    #[test]
    fn origins() {
        let allowed = vec!["https://app.example".to_string()];
        assert!(origin_allowed(&headers(None, "relay:8080"), &allowed));
        assert!(origin_allowed(
            &headers(Some("http://relay:8080"), "relay:8080"),
            &allowed
        ));
        assert!(origin_allowed(
            &headers(Some("https://App.Example"), "relay:8080"),
            &allowed
        ));
        assert!(!origin_allowed(
            &headers(Some("http://evil.example"), "relay:8080"),
            &allowed
        ));
        assert!(!origin_allowed(
            &headers(Some("http://relay:9999"), "relay:8080"),
            &allowed
        ));
        assert!(!origin_allowed(
            &headers(Some("null"), "relay:8080"),
            &allowed
        ));
    }
}
