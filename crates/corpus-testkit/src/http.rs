//! The HTTP plumbing the mock servers share ([`crate::mock`], [`crate::mock_model`]): an
//! accept loop that serves each connection on its own thread until stopped, and reading one
//! request (its target, lower-cased headers and body).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// One request as a mock reads it.
pub struct Request {
    /// The request target: path and query.
    pub target: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

/// Read the request line, the headers and a `content-length` body.
pub fn read_request(stream: &TcpStream) -> std::io::Result<Request> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len = headers
        .get("content-length")
        .and_then(|l: &String| l.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    Ok(Request {
        target,
        headers,
        body,
    })
}

/// Serve every connection of `listener` with `serve` on its own thread until `stop` is set
/// (the owner sets it, then connects once to wake the loop: [`wake`]).
pub fn spawn_accept_loop<S: Send + Sync + 'static>(
    listener: TcpListener,
    shared: Arc<S>,
    stop: fn(&S) -> &AtomicBool,
    serve: fn(&S, TcpStream) -> std::io::Result<()>,
) {
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            if stop(&shared).load(Ordering::Relaxed) {
                break;
            }
            if let Ok(stream) = stream {
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let _ = serve(&shared, stream);
                });
            }
        }
    });
}

/// Stop an accept loop: set its flag, then connect so it sees the flag.
pub fn wake(stop: &AtomicBool, addr: &str) {
    stop.store(true, Ordering::Relaxed);
    let _ = TcpStream::connect(addr);
}
