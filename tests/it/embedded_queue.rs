//! The queue inside the database: leases, retry times, dead letters, on both backends.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use webex_recordings::domain::{MessageSource, QueueMessage, RecordingEvent, RecordingId};
use webex_recordings::queue::embedded::{EmbeddedQueue, EmbeddedSettings};
use webex_recordings::queue::{Consumer, Delivery, Publisher, UNSETTLED_DELIVERY_LIMIT};

use crate::support::{BOTH, TestDb};

fn message(id: &str) -> QueueMessage {
    QueueMessage::new(
        MessageSource::Webhook,
        RecordingEvent::Created,
        RecordingId::parse(id).expect("id"),
        Some("org".into()),
        None,
    )
}

fn queue(t: &TestDb, lease: Duration) -> EmbeddedQueue {
    EmbeddedQueue::new(
        t.store.clone(),
        EmbeddedSettings {
            lease,
            poll_interval: Duration::from_millis(50),
        },
    )
}

/// The next delivery, which must come within 3 s (`what` says why it should).
async fn next_within_3s(q: &EmbeddedQueue, cancel: &CancellationToken, what: &str) -> Delivery {
    tokio::time::timeout(Duration::from_secs(3), q.next(cancel))
        .await
        .expect(what)
        .expect("next")
        .expect("delivery")
}

#[tokio::test]
async fn two_consumers_never_take_the_same_message_at_once() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        let q = queue(&t, Duration::from_secs(60));
        for i in 0..40 {
            q.publish(&message(&format!("m{i}")))
                .await
                .expect("publish");
        }
        let taken = Arc::new(tokio::sync::Mutex::new(Vec::new()));
        let mut workers = Vec::new();
        for _ in 0..4 {
            let q = q.clone();
            let taken = taken.clone();
            workers.push(tokio::spawn(async move {
                let cancel = CancellationToken::new();
                loop {
                    let next =
                        tokio::time::timeout(Duration::from_millis(300), q.next(&cancel)).await;
                    let Ok(Ok(Some(d))) = next else { break };
                    let id = d
                        .payload
                        .as_ref()
                        .map(|m| m.recording_id.to_string())
                        .unwrap_or_default();
                    taken.lock().await.push(id);
                    d.ack().await.expect("ack");
                }
            }));
        }
        for w in workers {
            w.await.expect("worker");
        }
        let taken = taken.lock().await;
        let unique: HashSet<_> = taken.iter().collect();
        assert_eq!(taken.len(), 40, "{db:?}: every message taken exactly once");
        assert_eq!(unique.len(), 40, "{db:?}: a message was taken twice");
        assert_eq!(q.depth().await.expect("depth").ready, 0);
    }
}

#[tokio::test]
async fn a_message_with_a_retry_time_is_not_taken_before_it() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        let q = queue(&t, Duration::from_secs(60));
        let cancel = CancellationToken::new();
        q.publish(&message("later")).await.expect("publish");
        let first = q.next(&cancel).await.expect("next").expect("delivery");
        assert_eq!(first.attempt, 1);
        first
            .retry_after(Duration::from_millis(1500), "links not ready")
            .await
            .expect("retry");
        q.publish(&message("now")).await.expect("publish");

        // The fresh message comes first; the delayed one is not there before its time.
        let d = q.next(&cancel).await.expect("next").expect("delivery");
        assert_eq!(
            d.payload.as_ref().map(|m| m.recording_id.as_str()).ok(),
            Some("now")
        );
        d.ack().await.expect("ack");
        let early = tokio::time::timeout(Duration::from_millis(800), q.next(&cancel)).await;
        assert!(
            early.is_err(),
            "{db:?}: the delayed message was taken early"
        );
        let d = next_within_3s(&q, &cancel, "delayed message comes back").await;
        assert_eq!(
            d.payload.as_ref().map(|m| m.recording_id.as_str()).ok(),
            Some("later")
        );
        assert_eq!(d.attempt, 2, "{db:?}");
        d.ack().await.expect("ack");
    }
}

#[tokio::test]
async fn an_unsettled_delivery_is_taken_again_after_its_lease_runs_out() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        let q = queue(&t, Duration::from_millis(600));
        let cancel = CancellationToken::new();
        q.publish(&message("crash")).await.expect("publish");
        let d = q.next(&cancel).await.expect("next").expect("delivery");
        // A worker that dies holds no keep-alive: dropping the delivery models the crash.
        drop(d);
        let again = next_within_3s(&q, &cancel, "redelivered after the lease").await;
        assert_eq!(again.attempt, 2, "{db:?}");
        again.dead_letter("gave up").await.expect("dead letter");
        let depth = q.depth().await.expect("depth");
        assert_eq!((depth.ready, depth.dead), (0, 1), "{db:?}");
    }
}

#[tokio::test]
async fn a_message_whose_worker_dies_every_time_is_dead_lettered_not_taken_forever() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        let q = queue(&t, Duration::from_millis(100));
        let cancel = CancellationToken::new();
        q.publish(&message("poison")).await.expect("publish");
        for attempt in 1..=UNSETTLED_DELIVERY_LIMIT {
            let d = next_within_3s(&q, &cancel, "taken again after the lease").await;
            assert_eq!(d.attempt, attempt, "{db:?}");
            drop(d);
        }
        let after = tokio::time::timeout(Duration::from_millis(800), q.next(&cancel)).await;
        assert!(after.is_err(), "{db:?}: taken past the limit");
        let depth = q.depth().await.expect("depth");
        assert_eq!((depth.ready, depth.dead), (0, 1), "{db:?}");
    }
}

#[tokio::test]
async fn a_publish_wakes_a_waiting_consumer_at_once() {
    let t = TestDb::new(crate::support::Db::Sqlite).await;
    // A long poll interval: only the in-process notify can explain a quick pickup.
    let q = EmbeddedQueue::new(
        t.store.clone(),
        EmbeddedSettings {
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_secs(30),
        },
    );
    let consumer = q.clone();
    let waiter = tokio::spawn(async move {
        let cancel = CancellationToken::new();
        consumer.next(&cancel).await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    q.publish(&message("wake")).await.expect("publish");
    // Well under the 30 s poll interval (and with room for a loaded CI machine).
    let got = tokio::time::timeout(Duration::from_secs(2), waiter)
        .await
        .expect("woken by the publish, not by the poll")
        .expect("task");
    assert!(got.expect("next").is_some());
}
