//! Shared test helpers: a server in a temp data dir on a random loopback
//! port, and a kubectl runner bound to its kubeconfig.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ferry_apiserver::{Config, Handle, Server};
use serde_json::{Value, json};

/// A test CRD with defaults, an enum, a required list, print columns and a
/// status subresource.
pub fn widget_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList", "shortNames": ["wd"]},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                    {"name": "Color", "type": "string", "jsonPath": ".spec.color"},
                    {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type=='Ready')].status"},
                    {"name": "Parts", "type": "string", "priority": 1, "jsonPath": ".spec.parts[*].id"}
                ],
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "description": "A widget for tests.",
                    "properties": {
                        "spec": {
                            "type": "object",
                            "required": ["size"],
                            "properties": {
                                "size": {"type": "integer", "minimum": 0, "description": "How big the widget is."},
                                "color": {"type": "string", "enum": ["red", "blue"], "default": "red", "description": "Paint."},
                                "parts": {"type": "array", "description": "Parts of the widget.", "items": {
                                    "type": "object", "required": ["id"],
                                    "properties": {"id": {"type": "string", "description": "Part id."}, "count": {"type": "integer"}}
                                }}
                            }
                        },
                        "status": {"type": "object", "properties": {
                            "observedGeneration": {"type": "integer"},
                            "message": {"type": "string"},
                            "conditions": {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
                        }}
                    }
                }}
            }]
        }
    })
}

/// A running server plus its data dir.
pub struct TestServer {
    pub handle: Option<Handle>,
    pub dir: PathBuf,
    pub addr: SocketAddr,
    pub rt: tokio::runtime::Runtime,
    _tmp: Option<tempfile::TempDir>,
}

pub fn config(dir: &Path, listen: SocketAddr, definitions: Vec<Value>) -> Config {
    let mut c = Config::new(dir);
    c.listen = listen;
    c.definitions = definitions;
    c
}

impl TestServer {
    pub fn start(definitions: Vec<Value>) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let handle = rt
            .block_on(Server::start(config(
                &dir,
                "127.0.0.1:0".parse().unwrap(),
                definitions,
            )))
            .unwrap();
        let addr = handle.addr();
        Self {
            handle: Some(handle),
            dir,
            addr,
            rt,
            _tmp: Some(tmp),
        }
    }

    pub fn handle(&self) -> &Handle {
        self.handle.as_ref().unwrap()
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.join("kubeconfig")
    }

    /// Stop and start again on the same port and data dir.
    pub fn restart(&mut self, definitions: Vec<Value>) {
        let h = self.handle.take().unwrap();
        self.rt.block_on(h.shutdown());
        let handle = self
            .rt
            .block_on(Server::start(config(&self.dir, self.addr, definitions)))
            .unwrap();
        self.handle = Some(handle);
    }

    /// `kubectl` with this server's kubeconfig and a private cache.
    pub fn kubectl(&self, kubectl: &Path) -> Command {
        let mut c = Command::new(kubectl);
        c.env("KUBECONFIG", self.kubeconfig())
            .env("HOME", self.dir.parent().unwrap())
            .arg("--cache-dir")
            .arg(self.dir.parent().unwrap().join("kube-cache"));
        c
    }
}

/// Run and require success; returns stdout.
pub fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Run and require failure; returns the output.
pub fn fails(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        !out.status.success(),
        "{cmd:?} unexpectedly succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    out
}

/// Write a file in the server's temp dir.
pub fn file(ts: &TestServer, name: &str, text: &str) -> PathBuf {
    let p = ts.dir.parent().unwrap().join(name);
    std::fs::write(&p, text).unwrap();
    p
}
