//! The gateway's stream for the scripting commands that follow something (`logs -f`,
//! `events -f`, `metrics --watch`): one WebSocket, `hello` read, then frames one at a time.
//! Unlike the console's driver it does not reconnect: a script sees the link end as an error.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::AUTHORIZATION;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{
    Connector, MaybeTlsStream, WebSocketStream, connect_async_tls_with_config,
};

use super::connection::Connection;
use super::exit::{CliError, CliResult, Exit};
use crate::client::BearerToken;
use crate::protocol::{ClientMsg, Filter, Seq, ServerMsg, Topic, decode_server_msg};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Follow {
    sink: SplitSink<Socket, Message>,
    frames: SplitStream<Socket>,
}

/// Open the stream and read its `hello`.
pub async fn open(conn: &Connection) -> CliResult<Follow> {
    let endpoint = format!("{}/v1/stream", conn.url.trim_end_matches('/'));
    let mut request = endpoint
        .as_str()
        .into_client_request()
        .map_err(|e| CliError::usage(format!("bad gateway URL {endpoint}: {e}")))?;
    if let Some(value) = conn.token.as_ref().and_then(BearerToken::header) {
        request.headers_mut().insert(AUTHORIZATION, value);
    }
    let connector = Connector::Rustls(conn.tls.clone());
    let connect = connect_async_tls_with_config(request, None, false, Some(connector));
    let ws = match tokio::time::timeout(HANDSHAKE_TIMEOUT, connect).await {
        Err(_) => {
            return Err(CliError::new(
                Exit::Unreachable,
                format!("gateway unreachable: connecting to {endpoint} timed out"),
            ));
        }
        Ok(Err(tungstenite::Error::Http(response))) => {
            let status = response.status().as_u16();
            let exit = match status {
                401 | 403 => Exit::Auth,
                429 => Exit::RateLimited,
                _ => Exit::Failure,
            };
            return Err(CliError::new(
                exit,
                format!("the gateway refused the stream: {}", response.status()),
            ));
        }
        Ok(Err(e)) => {
            return Err(CliError::new(
                Exit::Unreachable,
                format!("gateway unreachable: cannot connect to {endpoint}: {e}"),
            ));
        }
        Ok(Ok((ws, _))) => ws,
    };
    let (sink, frames) = ws.split();
    let mut follow = Follow { sink, frames };
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, follow.next()).await {
        Ok(Ok(ServerMsg::Hello { .. })) => Ok(follow),
        Ok(Ok(other)) => Err(CliError::failure(format!("expected hello, got {other:?}"))),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(CliError::new(
            Exit::Unreachable,
            "the gateway sent no hello",
        )),
    }
}

impl Follow {
    pub async fn subscribe(
        &mut self,
        topics: Vec<Topic>,
        filter: Filter,
        resume: BTreeMap<Topic, Seq>,
    ) -> CliResult {
        let msg = ClientMsg::Subscribe {
            topics,
            filter,
            resume,
        };
        let text = serde_json::to_string(&msg)?;
        self.sink
            .send(Message::Text(text.into()))
            .await
            .map_err(|e| CliError::new(Exit::Unreachable, format!("stream lost: {e}")))
    }

    /// The next frame the gateway sends (pings are answered while reading).
    pub async fn next(&mut self) -> CliResult<ServerMsg> {
        loop {
            match self.frames.next().await {
                None => {
                    return Err(CliError::new(
                        Exit::Unreachable,
                        "the gateway closed the stream",
                    ));
                }
                Some(Err(e)) => {
                    return Err(CliError::new(
                        Exit::Unreachable,
                        format!("stream lost: {e}"),
                    ));
                }
                Some(Ok(Message::Text(text))) => match decode_server_msg(text.as_str()) {
                    Ok(msg) => return Ok(msg),
                    Err(e) => {
                        tracing::warn!(error = %e, "ignoring a frame that is not a ServerMsg")
                    }
                },
                Some(Ok(Message::Close(_))) => {
                    return Err(CliError::new(
                        Exit::Unreachable,
                        "the gateway closed the stream",
                    ));
                }
                Some(Ok(_)) => {}
            }
        }
    }
}
