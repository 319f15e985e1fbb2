//! A one-shot HTTP server on the loopback interface, for download tests without a network.

use std::io::{Read, Write};
use std::net::TcpListener;

/// Serves one request on 127.0.0.1: a `Content-Length` of `body.len()`, then the first `send`
/// bytes of `body` (all of it, or fewer for a server that dies mid-file), then closes the
/// connection. Returns the URL, ending in `/<file_name>`.
pub fn serve_once(body: Vec<u8>, send: usize, file_name: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body[..send.min(body.len())]);
        }
    });
    format!("http://{addr}/{file_name}")
}

/// A URL on a loopback port that nothing listens on.
pub fn dead_url(file_name: &str) -> String {
    let port = (TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()))
        .expect("a loopback port")
        .port();
    format!("http://127.0.0.1:{port}/{file_name}")
}
