//! A chromedriver process and one headless Chromium session, driven over WebDriver; tests/run
//! installs Debian's chromium and chromium-driver.
//!
//! Included beside support/server.rs (as `mod server`), whose HTTP helpers it uses.

#![allow(dead_code)] // each test binary uses a different subset

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use crate::server::{free_port, http};

/// A chromedriver process and one headless Chromium session, spoken to over WebDriver.
pub struct Browser {
    driver: Child,
    address: SocketAddr,
    session: String,
    _profile: tempfile::TempDir,
}

/// The key under which WebDriver names an element.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    /// Starts chromedriver on a free port and opens a session.
    pub fn start() -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (tests/run installs Debian's chromium-driver)");
        let address: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(address).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        }}});
        let mut browser = Browser {
            driver,
            address,
            session: String::new(),
            _profile: profile,
        };
        let created = browser.call("POST", "/session", &capabilities);
        browser.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("a session: {created}"))
            .to_owned();
        browser
    }

    fn call(&self, method: &str, path: &str, body: &Value) -> Value {
        let body = if method == "GET" {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        let (status, text) = http(
            self.address,
            method,
            path,
            &[("Content-Type", "application/json")],
            &body,
        );
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        assert_eq!(status, 200, "WebDriver {method} {path}: {value}");
        value["value"].clone()
    }

    fn session_call(&self, method: &str, path: &str, body: Value) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), &body)
    }

    /// Opens `url`.
    pub fn go(&self, url: &str) {
        self.session_call("POST", "/url", json!({ "url": url }));
    }

    /// The first element matching `css`, waiting up to 30 s for it to appear.
    pub fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (status, text) = http(
                self.address,
                "POST",
                &format!("/session/{}/element", self.session),
                &[("Content-Type", "application/json")],
                json!({ "using": "css selector", "value": css })
                    .to_string()
                    .as_bytes(),
            );
            if status == 200 {
                let value: Value = serde_json::from_str(&text).expect("json");
                return value["value"][ELEMENT]
                    .as_str()
                    .unwrap_or_else(|| panic!("element id in {value}"))
                    .to_owned();
            }
            assert!(Instant::now() < deadline, "no element {css}: {text}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// How many elements match `css` now (no waiting).
    pub fn count(&self, css: &str) -> usize {
        let found = self.session_call(
            "POST",
            "/elements",
            json!({ "using": "css selector", "value": css }),
        );
        found.as_array().map_or(0, Vec::len)
    }

    /// Clicks the first element matching `css`.
    pub fn click(&self, css: &str) {
        let element = self.find(css);
        self.session_call("POST", &format!("/element/{element}/click"), json!({}));
    }

    /// Types `text` into the first element matching `css`.
    pub fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.session_call(
            "POST",
            &format!("/element/{element}/value"),
            json!({ "text": text }),
        );
    }

    /// The text of `css`; `None` while the page is being replaced (the element went stale).
    pub fn text(&self, css: &str) -> Option<String> {
        let element = self.find(css);
        let (status, text) = http(
            self.address,
            "GET",
            &format!("/session/{}/element/{element}/text", self.session),
            &[],
            b"",
        );
        if status != 200 {
            return None;
        }
        let value: Value = serde_json::from_str(&text).expect("json");
        Some(value["value"].as_str().unwrap_or_default().to_owned())
    }

    /// Waits up to 30 s until the text of `css` contains `wanted` (across page loads); returns
    /// it.
    pub fn wait_for_text(&self, css: &str, wanted: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = self.text(css).unwrap_or_default();
            if text.contains(wanted) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{css} never showed {wanted:?}; it shows {text:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The attribute `name` of the first element matching `css`.
    pub fn attribute(&self, css: &str, name: &str) -> String {
        let element = self.find(css);
        let value = self.session_call(
            "GET",
            &format!("/element/{element}/attribute/{name}"),
            json!({}),
        );
        value
            .as_str()
            .unwrap_or_else(|| panic!("{css} has no {name}: {value}"))
            .to_owned()
    }

    /// Saves a PNG of the window at `path`.
    pub fn screenshot(&self, path: &Path) {
        let encoded = self.session_call("GET", "/screenshot", json!({}));
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().expect("base64"))
            .expect("a PNG");
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("artifact folder");
        std::fs::write(path, png).expect("screenshot written");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = http(
                self.address,
                "DELETE",
                &format!("/session/{}", self.session),
                &[],
                b"",
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
