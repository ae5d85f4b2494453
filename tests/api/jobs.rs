use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::future::join_all;
use steward::scheduler::jobs::{JobError, JobHandler, JobOutcome, JobRegistry, JobWorker};
use steward::services::Services;
use steward::storage::Tx;
use steward::storage::jobs::{self, Job, NewJob};

use crate::support::{TestApp, t0};

/// Counts runs per job id; fails while `failing` is set.
#[derive(Default)]
struct Counting {
    runs: Mutex<HashMap<i64, u32>>,
    failing: Option<JobError>,
}

#[async_trait]
impl JobHandler for Counting {
    async fn run(&self, _: &Services, job: &Job, _: &mut Tx) -> Result<(), JobError> {
        *self.runs.lock().unwrap().entry(job.id).or_default() += 1;
        match &self.failing {
            Some(err) => Err(err.clone()),
            None => Ok(()),
        }
    }
}

fn registry(handler: Arc<Counting>) -> Arc<JobRegistry> {
    let mut registry = JobRegistry::default();
    registry.register("count", handler);
    Arc::new(registry)
}

async fn schedule(app: &TestApp, key: Option<String>, max_attempts: i32) -> Option<i64> {
    let job = NewJob {
        kind: "count".into(),
        payload: serde_json::json!({}),
        run_at: t0(),
        dedupe_key: key,
        max_attempts,
    };
    jobs::enqueue(&app.pool, &job, t0()).await.unwrap()
}

#[tokio::test]
async fn scheduling_the_same_dedupe_key_twice_makes_one_job() {
    let app = TestApp::spawn().await;
    assert!(schedule(&app, Some("esc:1:level:2".into()), 3).await.is_some());
    assert!(schedule(&app, Some("esc:1:level:2".into()), 3).await.is_none());
}

#[tokio::test]
async fn concurrent_workers_never_run_the_same_job() {
    let app = TestApp::spawn().await;
    for _ in 0..60 {
        schedule(&app, None, 3).await;
    }
    let handler = Arc::new(Counting::default());
    let registry = registry(handler.clone());
    let workers = (0..6).map(|n| {
        let worker = JobWorker::new(app.services.clone(), registry.clone(), format!("w{n}"));
        tokio::spawn(async move { while worker.run_one().await.unwrap().is_some() {} })
    });
    for result in join_all(workers).await {
        result.unwrap();
    }
    let runs = handler.runs.lock().unwrap();
    assert_eq!(runs.len(), 60);
    assert!(runs.values().all(|&n| n == 1), "{runs:?}");
}

#[tokio::test]
async fn a_job_whose_worker_died_runs_again_after_its_lease() {
    let app = TestApp::spawn().await;
    let id = schedule(&app, None, 3).await.unwrap();
    // A worker claims the job and dies without finishing it.
    let lease = chrono::Duration::seconds(app.services.setup().settings.jobs.lease_seconds as i64);
    let claimed = jobs::claim_next(&app.pool, "dead-worker", t0(), t0() + lease).await.unwrap();
    assert_eq!(claimed.unwrap().id, id);

    let handler = Arc::new(Counting::default());
    let survivor = JobWorker::new(app.services.clone(), registry(handler.clone()), "survivor");
    assert_eq!(survivor.run_one().await.unwrap(), None, "the lease still holds");
    app.clock.advance(lease + chrono::Duration::seconds(1));
    assert_eq!(survivor.run_one().await.unwrap(), Some(JobOutcome::Done { id }));
    assert_eq!(handler.runs.lock().unwrap()[&id], 1);
    // The dead worker's late completion is refused.
    assert!(!jobs::complete(&app.pool, id, "dead-worker", app.now()).await.unwrap());
}

#[tokio::test]
async fn a_failing_job_backs_off_then_dead_letters_with_its_last_error() {
    let app = TestApp::spawn().await;
    let id = schedule(&app, None, 3).await.unwrap();
    let handler = Arc::new(Counting {
        failing: Some(JobError::Retryable("upstream 503".into())),
        ..Default::default()
    });
    let worker = JobWorker::new(app.services.clone(), registry(handler.clone()), "w");

    let mut outcomes = Vec::new();
    let mut previous_run_at = t0();
    for _ in 0..3 {
        outcomes.push(worker.run_one().await.unwrap().unwrap());
        let status = jobs::status(&app.pool, id).await.unwrap().unwrap();
        if status.state == "pending" {
            assert!(status.run_at > previous_run_at, "backs off: {status:?}");
            assert_eq!(worker.run_one().await.unwrap(), None, "not before its backoff");
            previous_run_at = status.run_at;
            app.clock.set(status.run_at);
        }
    }
    assert!(matches!(outcomes[0], JobOutcome::Retrying { .. }));
    assert!(matches!(outcomes[1], JobOutcome::Retrying { .. }));
    assert_eq!(outcomes[2], JobOutcome::Dead { id, error: "upstream 503".into() });
    let status = jobs::status(&app.pool, id).await.unwrap().unwrap();
    assert_eq!((status.state.as_str(), status.attempts), ("dead", 3));
    assert_eq!(status.last_error.as_deref(), Some("upstream 503"));
    assert_eq!(handler.runs.lock().unwrap()[&id], 3);
}

#[tokio::test]
async fn a_fatal_error_dead_letters_at_once() {
    let app = TestApp::spawn().await;
    let id = schedule(&app, None, 5).await.unwrap();
    let handler = Arc::new(Counting {
        failing: Some(JobError::Fatal("bad payload".into())),
        ..Default::default()
    });
    let worker = JobWorker::new(app.services.clone(), registry(handler), "w");
    assert_eq!(
        worker.run_one().await.unwrap(),
        Some(JobOutcome::Dead { id, error: "bad payload".into() })
    );
}

#[tokio::test]
async fn a_job_without_a_handler_is_dead_lettered_with_a_clear_reason() {
    let app = TestApp::spawn().await;
    let job = NewJob {
        kind: "mystery".into(),
        payload: serde_json::json!({}),
        run_at: t0(),
        dedupe_key: None,
        max_attempts: 3,
    };
    let id = jobs::enqueue(&app.pool, &job, t0()).await.unwrap().unwrap();
    let worker = JobWorker::new(app.services.clone(), Arc::new(JobRegistry::default()), "w");
    match worker.run_one().await.unwrap() {
        Some(JobOutcome::Dead { id: dead, error }) => {
            assert_eq!(dead, id);
            assert!(error.contains("mystery"), "{error}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_batch_claim_takes_expired_leases_first_then_due_jobs_in_order_up_to_its_limit() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(schedule(&app, None, 3).await.unwrap());
    }
    let lease = chrono::Duration::seconds(app.services.setup().settings.jobs.lease_seconds as i64);
    // The last job's worker claimed it and died; its lease runs out.
    let dead = jobs::claim_due(&app.pool, "dead-worker", t0(), t0() + lease, 1).await.unwrap();
    assert_eq!(dead.iter().map(|job| job.id).collect::<Vec<_>>(), vec![ids[0]]);
    let later = t0() + lease + chrono::Duration::seconds(1);

    let batch = jobs::claim_due(&app.pool, "w", later, later + lease, 3).await.unwrap();
    let claimed: Vec<i64> = batch.iter().map(|job| job.id).collect();
    assert_eq!(claimed, vec![ids[0], ids[1], ids[2]], "the expired lease, then due order");
    assert_eq!(batch[0].attempts, 2, "the dead worker's attempt counts");
    let rest = jobs::claim_due(&app.pool, "w", later, later + lease, 10).await.unwrap();
    assert_eq!(rest.iter().map(|job| job.id).collect::<Vec<_>>(), vec![ids[3], ids[4]]);
}

#[tokio::test]
async fn concurrent_batch_claims_never_hand_out_the_same_job_twice() {
    let app = TestApp::spawn().await;
    for _ in 0..120 {
        schedule(&app, None, 3).await;
    }
    let lease = chrono::Duration::seconds(60);
    let claimers = (0..6).map(|n| {
        let pool = app.pool.clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let worker = format!("w{n}");
                let batch = jobs::claim_due(&pool, &worker, t0(), t0() + lease, 7).await.unwrap();
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch.into_iter().map(|job| job.id));
            }
        })
    });
    let mut all: Vec<i64> = Vec::new();
    for result in join_all(claimers).await {
        all.extend(result.unwrap());
    }
    let distinct: std::collections::HashSet<i64> = all.iter().copied().collect();
    assert_eq!((all.len(), distinct.len()), (120, 120));
}
