//! A tiny scripted HTTP server on a loopback port, for what neither moto nor `aws-smithy-mocks`
//! can show: a listener that never answers, HTML pages, garbage XML, proxy and S3 errors, the
//! credentials a request was signed with, and a CloudFormation that keeps an update running while
//! the real binary gets signals. Each test gives it a handler from a request to a reply.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    /// A header by name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The query-protocol `Action` (`DescribeStacks`, `GetCallerIdentity`, ...), if any.
    pub fn action(&self) -> Option<String> {
        self.param("Action")
    }

    /// A form parameter of the body (url-decoded enough for names and ids).
    pub fn param(&self, name: &str) -> Option<String> {
        self.body.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == name).then(|| decode(v))
        })
    }

    /// The access key id the request was signed with.
    pub fn access_key(&self) -> Option<String> {
        let auth = self.header("authorization")?;
        let cred = auth.split("Credential=").nth(1)?;
        Some(cred.split('/').next()?.to_owned())
    }
}

fn decode(v: &str) -> String {
    let mut out = Vec::new();
    let b = v.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(c) => {
                        out.push(c);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What to answer.
pub enum Reply {
    /// Status, content type and body.
    Http(u16, &'static str, String),
    /// Accept the request and never answer (the connection stays open).
    Hang,
}

impl Reply {
    pub fn xml(status: u16, body: impl Into<String>) -> Reply {
        Reply::Http(status, "text/xml", body.into())
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A running fake; the listener thread lives as long as the test process.
pub struct FakeAws {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

impl FakeAws {
    /// Starts on a free loopback port.
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> FakeAws {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let reqs = requests.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let handler = handler.clone();
                let reqs = reqs.clone();
                std::thread::spawn(move || serve(conn, &*handler, &reqs));
            }
        });
        FakeAws {
            url: format!("http://127.0.0.1:{port}"),
            requests,
        }
    }

    /// The actions received so far, in order.
    pub fn actions(&self) -> Vec<String> {
        self.requests
            .lock()
            .map(|r| r.iter().filter_map(Request::action).collect())
            .unwrap_or_default()
    }
}

fn serve(conn: TcpStream, handler: &Handler, reqs: &Mutex<Vec<Request>>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(600)));
    let Ok(write_half) = conn.try_clone() else {
        return;
    };
    let mut out = write_half;
    let mut reader = BufReader::new(conn);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let req = Request {
            method,
            path,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        let reply = handler(&req);
        if let Ok(mut r) = reqs.lock() {
            r.push(req.clone());
        }
        match reply {
            Reply::Hang => {
                std::thread::sleep(Duration::from_secs(3600));
                return;
            }
            Reply::Http(status, ctype, body) => {
                let head_only = req.method == "HEAD";
                let text = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nx-amzn-requestid: fake-1\r\n\r\n",
                    body.len()
                );
                if out.write_all(text.as_bytes()).is_err() {
                    return;
                }
                if !head_only && out.write_all(body.as_bytes()).is_err() {
                    return;
                }
                let _ = out.flush();
            }
        }
    }
}

/// The query-protocol error document.
pub fn error_xml(code: &str, message: &str) -> String {
    format!(
        r#"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fake-1</RequestId></ErrorResponse>"#
    )
}

/// An answer to `Action` with `inner` as its result element's content.
pub fn result_xml(action: &str, inner: &str) -> String {
    format!(
        r#"<{action}Response xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><{action}Result>{inner}</{action}Result><ResponseMetadata><RequestId>fake-1</RequestId></ResponseMetadata></{action}Response>"#
    )
}

/// STS `GetCallerIdentity` for account 111122223333.
pub fn caller_identity() -> Reply {
    Reply::xml(
        200,
        r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:user/fake</Arn><UserId>AIDFAKE</UserId><Account>111122223333</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>fake-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>"#,
    )
}

/// A loopback port with a listener that accepts connections and never answers (kept open for
/// the whole test process).
pub fn silent_listener() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming().flatten() {
            held.push(c);
        }
    });
    format!("http://127.0.0.1:{port}")
}
