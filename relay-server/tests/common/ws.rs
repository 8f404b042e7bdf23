//! A websocket client of the room protocol for tests: join, send, read typed messages, and a
//! raw HTTP/1.1 request helper (the tests have no HTTP client dependency).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use sim_core::protocol::{
    ClientMessage, ClockState, Member, Role, ServerMessage, StampedCommand, decode_server,
};
use sim_core::{Command, Simulation};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// One websocket connection to a room.
pub struct Client {
    /// The socket.
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// What a welcome brought: who we are and the referee's state.
pub struct Welcome {
    /// This member.
    pub you: Member,
    /// The referee's tick.
    pub tick: u64,
    /// The restored snapshot.
    pub sim: Simulation,
    /// Commands pending at that tick.
    pub commands: Vec<StampedCommand>,
    /// The room's clock (paused, speed).
    pub clock: ClockState,
    /// Whether this member may set the room's clock, as the welcome says.
    pub clock_rights: Option<bool>,
}

impl Client {
    /// Opens the socket (no hello yet).
    pub async fn connect(url: &str) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("connect");
        Self { ws }
    }

    /// Connects and says hello; returns the client and its welcome.
    pub async fn join(url: &str, name: &str, role: Role, token: Option<&str>) -> (Self, Welcome) {
        let mut client = Self::connect(url).await;
        client
            .send(&ClientMessage::Hello {
                name: name.into(),
                role,
                token: token.map(Into::into),
            })
            .await;
        let welcome = client.next_welcome().await;
        (client, welcome)
    }

    /// The next message, which must be a welcome (or a presence update before it).
    pub async fn next_welcome(&mut self) -> Welcome {
        match self.try_welcome().await {
            Ok(welcome) => welcome,
            Err(other) => panic!("expected a welcome, got {other:?}"),
        }
    }

    /// The next message as a welcome, or what came instead (such as an error while the room
    /// moves between relays).
    pub async fn try_welcome(&mut self) -> Result<Welcome, ServerMessage> {
        Ok(match self.next_not_presence().await {
            ServerMessage::Welcome {
                you,
                tick,
                snapshot,
                commands,
                clock,
                clock_rights,
                ..
            } => Welcome {
                you,
                tick,
                sim: Simulation::restore(*snapshot),
                commands,
                clock,
                clock_rights,
            },
            other => return Err(other),
        })
    }

    /// Sends a protocol message.
    /// Reports the hash of `sim` at its tick, as a client's periodic check does.
    pub async fn send_hash(&mut self, sim: &Simulation) {
        self.send(&ClientMessage::Hash {
            tick: sim.tick(),
            hash: sim.state_hash(),
        })
        .await;
    }

    pub async fn send(&mut self, message: &ClientMessage) {
        self.ws
            .send(Message::text(message.to_json()))
            .await
            .expect("send");
    }

    /// Sends raw text, valid or not.
    pub async fn ws_send_text(&mut self, text: &str) {
        self.ws
            .send(Message::text(text.to_string()))
            .await
            .expect("send");
    }

    /// The next protocol message, within 10 s.
    pub async fn next(&mut self) -> ServerMessage {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("a message within 10 s")
                .expect("connection open")
                .expect("valid frame");
            if let Message::Text(text) = frame {
                return decode_server(text.as_str()).expect("a valid server message");
            }
        }
    }

    /// The next message that is not a presence update.
    pub async fn next_not_presence(&mut self) -> ServerMessage {
        loop {
            match self.next().await {
                ServerMessage::Presence { .. } => continue,
                other => return other,
            }
        }
    }

    /// The next presence list.
    pub async fn next_presence(&mut self) -> Vec<Member> {
        loop {
            if let ServerMessage::Presence { members } = self.next().await {
                return members;
            }
        }
    }

    /// Presence lists until one has `n` members; returns it.
    pub async fn presence_of(&mut self, n: usize) -> Vec<Member> {
        loop {
            let members = self.next_presence().await;
            if members.len() == n {
                return members;
            }
        }
    }

    /// The next stamped command.
    pub async fn next_command(&mut self) -> StampedCommand {
        match self.next_not_presence().await {
            ServerMessage::Command(c) => c,
            other => panic!("expected a command, got {other:?}"),
        }
    }

    /// The next error's sentence.
    pub async fn next_error(&mut self) -> String {
        match self.next_not_presence().await {
            ServerMessage::Error { message } => message,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    /// Pings and returns the tick in the pong.
    pub async fn ping(&mut self, nonce: u64) -> u64 {
        self.send(&ClientMessage::Ping { nonce: Some(nonce) }).await;
        match self.next_not_presence().await {
            ServerMessage::Pong { nonce: n, tick, .. } => {
                assert_eq!(n, Some(nonce));
                tick
            }
            other => panic!("expected a pong, got {other:?}"),
        }
    }

    /// Waits (pinging) until the room's tick is past `tick`.
    pub async fn wait_for_tick(&mut self, tick: u64) {
        for nonce in 0.. {
            if self.ping(nonce).await > tick {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the connection ends (a close frame, an error or the end of the stream),
    /// skipping other messages; returns the close reason if there was one.
    pub async fn closed(&mut self) -> Option<String> {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match self.ws.next().await {
                    Some(Ok(Message::Close(frame))) => return frame.map(|f| f.reason.to_string()),
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => return None,
                }
            }
        })
        .await
        .expect("the connection ends within 10 s")
    }
}

/// The state at `tick` replayed as a client does: from a welcome's snapshot, with its commands
/// and the `later` ones received since.
pub fn replay(welcome: Welcome, later: &[StampedCommand], tick: u64) -> Simulation {
    let mut sim = welcome.sim;
    let mut commands = welcome.commands;
    commands.extend_from_slice(later);
    catch_up(&mut sim, &commands, tick);
    sim
}

/// Steps `sim` up to `tick` (its next tick), applying each command at its stamped tick.
pub fn catch_up(sim: &mut Simulation, commands: &[StampedCommand], tick: u64) {
    while sim.tick() < tick {
        let due: Vec<Command> = commands
            .iter()
            .filter(|c| c.tick == sim.tick())
            .map(|c| c.command.clone())
            .collect();
        sim.step(&due);
    }
}

/// A bare HTTP/1.1 request to `addr`; returns the status code and the body.
pub async fn http(addr: std::net::SocketAddr, method: &str, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}
