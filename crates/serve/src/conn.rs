//! The listening socket as [`Server`](crate::Server) uses it: [`Listener`] hands each
//! accepted connection to axum wrapped in [`JsonErrors`], which turns the bodiless error
//! responses hyper writes by itself into the service's JSON errors.
//!
//! hyper answers some requests before any handler sees them: 400 for a request line or
//! header it cannot parse (a control character in a `Content-Type`, say), 414 for a URI
//! longer than 65534 bytes, 431 for more than 100 headers or a head that overflows its
//! read buffer (which it checks once it holds about 400 KiB, so heads of up to 0.5–1 MB
//! may pass). It writes those with an empty body and no hook to change it, then
//! closes the connection. [`JsonErrors`] recognises such a response as it is written (a
//! whole response head with status 4xx/5xx and `content-length: 0`, which no handler of
//! this service sends) and writes `{"error": {"code", "message"}}` in its place.
//!
//! Writes are not vectored through the wrapper, so hyper flattens each response head into
//! one buffer and the check sees it whole.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use crate::api_error::{ApiError, ErrorCode};

/// A TCP listener whose connections are [`JsonErrors`]-wrapped (and `TCP_NODELAY`).
#[derive(Debug)]
pub(crate) struct Listener {
    inner: TcpListener,
}

impl Listener {
    pub(crate) fn new(inner: TcpListener) -> Self {
        Listener { inner }
    }
}

impl axum::serve::Listener for Listener {
    type Io = JsonErrors<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY for {addr}: {e}");
        }
        (JsonErrors::new(stream), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A connection whose bodiless error responses are rewritten as JSON errors (see the
/// module docs).
#[derive(Debug)]
pub(crate) struct JsonErrors<T> {
    inner: T,
    /// A replacement response still to be written, and how much of it was.
    pending: Vec<u8>,
    written: usize,
}

impl<T> JsonErrors<T> {
    pub(crate) fn new(inner: T) -> Self {
        JsonErrors {
            inner,
            pending: Vec::new(),
            written: 0,
        }
    }
}

impl<T: AsyncWrite + Unpin> JsonErrors<T> {
    /// Writes what is left of a replacement response.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending = Vec::new();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for JsonErrors<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for JsonErrors<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.poll_pending(cx))?;
        if let Some(replacement) = json_error_response(buf) {
            this.pending = replacement;
            this.written = 0;
            // Start writing it now; flush and shutdown finish the job.
            if let Poll::Ready(Err(e)) = this.poll_pending(cx) {
                return Poll::Ready(Err(e));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// The JSON error response to write instead of `buf`, when `buf` is exactly the head of a
/// bodiless HTTP/1 error response (status 400, 414 or 431 with `content-length: 0`).
fn json_error_response(buf: &[u8]) -> Option<Vec<u8>> {
    if !(buf.starts_with(b"HTTP/1.1 ") || buf.starts_with(b"HTTP/1.0 "))
        || !buf.ends_with(b"\r\n\r\n")
    {
        return None;
    }
    let head = std::str::from_utf8(buf).ok()?;
    let status: u16 = head.get(9..12)?.parse().ok()?;
    let code = match status {
        400 => ErrorCode::MalformedRequest,
        414 => ErrorCode::UriTooLong,
        431 => ErrorCode::HeadersTooLarge,
        _ => return None,
    };
    let mut lines = head.trim_end().split("\r\n");
    let status_line = lines.next()?;
    let mut empty = false;
    let mut kept = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':')?;
        if name.trim().eq_ignore_ascii_case("content-length") {
            empty = value.trim() == "0";
        } else if !name.trim().eq_ignore_ascii_case("connection") {
            kept.push(line);
        }
    }
    if !empty {
        return None;
    }
    let message = match code {
        ErrorCode::UriTooLong => "the request URI is too long (at most 65534 bytes)",
        ErrorCode::HeadersTooLarge => {
            "the request headers are too large (more than 100 headers, or too many bytes)"
        }
        _ => {
            "the HTTP request is malformed (a request line or header that cannot be parsed, \
             such as a control character in a header value)"
        }
    };
    tracing::debug!("{status} from hyper, answered as JSON: {message}");
    let body = ApiError::new(code, message).body().to_string();
    let mut out = format!("{status_line}\r\n");
    for line in kept {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str(&format!(
        "content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ));
    Some(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyper_error_heads_become_json_and_everything_else_passes() {
        let head = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Thu, 01 Jan 2026 00:00:00 GMT\r\n\r\n";
        let out = String::from_utf8(json_error_response(head).expect("rewritten")).expect("utf-8");
        let (new_head, body) = out.split_once("\r\n\r\n").expect("head");
        assert!(new_head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(new_head.contains("\r\ndate: Thu, 01 Jan 2026"));
        assert!(new_head.contains(&format!("content-length: {}", body.len())));
        let json: serde_json::Value = serde_json::from_str(body).expect("json");
        assert_eq!(json["error"]["code"], "headers_too_large");

        for (status, code) in [
            ("400 Bad Request", "malformed_request"),
            ("414 URI Too Long", "uri_too_long"),
        ] {
            let head = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n");
            let out = json_error_response(head.as_bytes()).expect("rewritten");
            assert!(String::from_utf8_lossy(&out).contains(code));
        }
        // A JSON error of a handler, a success, a body chunk, a head followed by a body.
        for untouched in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 60\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            b"{\"error\": {}}",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\nxyz",
        ] {
            assert_eq!(json_error_response(untouched), None);
        }
    }
}
