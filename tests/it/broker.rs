//! The real RabbitMQ on this machine, one vhost per test (created with `rabbitmqctl`, deleted on
//! drop), so tests run in parallel, see the production names, and leave nothing behind.

use std::process::Command;

use lapin::message::BasicGetMessage;
use lapin::options::BasicGetOptions;
use lapin::{Channel, Connection, ConnectionProperties};
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

    /// A channel of plain lapin on this vhost, to look at queues without our own consumer
    /// (the connection is returned too: it must live as long as the channel is used).
    pub(crate) async fn plain_channel(&self) -> (Connection, Channel) {
        let connection = Connection::connect(&self.url(), ConnectionProperties::default())
            .await
            .expect("plain connect");
        let channel = connection.create_channel().await.expect("channel");
        (connection, channel)
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

/// The next message of `queue`, if there is one.
pub(crate) async fn basic_get(
    channel: &Channel,
    queue: &str,
    no_ack: bool,
) -> Option<BasicGetMessage> {
    channel
        .basic_get(queue.into(), BasicGetOptions { no_ack })
        .await
        .expect("basic_get")
}
