//! The real RabbitMQ on this machine, one vhost per test (created with `rabbitmqctl`, deleted on
//! drop), so tests run in parallel, see the production names, and leave nothing behind.

use std::process::Command;

use serde_json::Value;

pub(crate) const BROKER: &str = "amqp://guest:guest@127.0.0.1:5672";

pub(crate) fn rabbitmqctl(args: &[&str]) -> String {
    let out = Command::new("rabbitmqctl")
        .args(args)
        .output()
        .expect("run rabbitmqctl");
    assert!(
        out.status.success(),
        "rabbitmqctl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A vhost for one test; deleted on drop.
pub(crate) struct Vhost {
    pub(crate) name: String,
}

impl Vhost {
    pub(crate) fn new() -> Self {
        let vhost = Self {
            name: format!("wr-test-{}", uuid::Uuid::new_v4().simple()),
        };
        vhost.create();
        vhost
    }

    pub(crate) fn create(&self) {
        rabbitmqctl(&["add_vhost", &self.name]);
        rabbitmqctl(&[
            "set_permissions",
            "-p",
            &self.name,
            "guest",
            ".*",
            ".*",
            ".*",
        ]);
    }

    pub(crate) fn delete(&self) {
        rabbitmqctl(&["delete_vhost", &self.name]);
    }

    pub(crate) fn url(&self) -> String {
        format!("{BROKER}/{}", self.name)
    }

    pub(crate) fn json(&self, args: &[&str]) -> Vec<Value> {
        let mut all = args.to_vec();
        all.extend(["-p", &self.name, "--formatter", "json", "--quiet"]);
        serde_json::from_str(&rabbitmqctl(&all)).expect("rabbitmqctl json")
    }
}

impl Drop for Vhost {
    fn drop(&mut self) {
        let _ = Command::new("rabbitmqctl")
            .args(["delete_vhost", &self.name])
            .output();
    }
}
