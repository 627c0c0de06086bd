//! "Still waiting for ...": a line on stderr when an AWS request has gone unanswered for a while,
//! so a hanging endpoint is never silent.
//!
//! It is an SDK interceptor, so every request of every client built by
//! [`Clients::connect`](super::client::Clients::connect) gets it (CloudFormation, S3, STS, the
//! asset uploads) without each call site having to remember. Before each attempt is sent a timer
//! starts; the attempt's end, a retry, or dropping the request (Ctrl-C) stops it, because the
//! timer's guard lives in the request's config bag.

use std::time::Duration;

use aws_sdk_cloudformation::config::interceptors::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_cloudformation::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::config_bag::{Storable, StoreReplace};

/// Prints what is being waited on when a request is not answered within `after`.
#[derive(Debug, Clone)]
pub struct SlowCallNotice {
    after: Duration,
    timeout: Duration,
}

impl SlowCallNotice {
    /// The notice comes after 10 s, or half the timeout when that is shorter, so it always comes
    /// before the request gives up.
    pub fn new(timeout: Duration) -> SlowCallNotice {
        SlowCallNotice {
            after: (timeout / 2).min(Duration::from_secs(10)),
            timeout,
        }
    }

    /// The line printed for a request to `uri` for `operation` (`cloudformation DescribeStacks`).
    pub fn message(&self, operation: &str, uri: &str) -> String {
        format!(
            "still waiting for {uri} to answer {operation} ({} s so far; giving up after {} s, --timeout SECONDS to change)",
            self.after.as_secs_f64(),
            self.timeout.as_secs_f64()
        )
    }
}

/// Aborts the timer task when dropped (the attempt ended or the request was dropped).
#[derive(Debug)]
struct TimerGuard(tokio::task::AbortHandle);

impl Drop for TimerGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Storable for TimerGuard {
    type Storer = StoreReplace<Self>;
}

impl Intercept for SlowCallNotice {
    fn name(&self) -> &'static str {
        "SlowCallNotice"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // Outside a tokio runtime there is nothing to run a timer on; the request still works.
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return Ok(());
        };
        let operation = cfg
            .load::<Metadata>()
            .map(|m| format!("{} {}", m.service(), m.name()))
            .unwrap_or_else(|| "a request".into());
        let uri = context.request().uri().to_owned();
        // The URI without its query string: the operation is named already.
        let uri = uri.split('?').next().unwrap_or_default().to_owned();
        let line = self.message(&operation, &uri);
        let after = self.after;
        let task = rt.spawn(async move {
            tokio::time::sleep(after).await;
            eprintln!("{line}");
        });
        cfg.interceptor_state()
            .store_put(TimerGuard(task.abort_handle()));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().unset::<TimerGuard>();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notice_comes_before_the_timeout() {
        let n = SlowCallNotice::new(Duration::from_secs(60));
        assert_eq!(n.after, Duration::from_secs(10));
        let short = SlowCallNotice::new(Duration::from_secs(4));
        assert_eq!(short.after, Duration::from_secs(2));
        let m = short.message("cloudformation DescribeStacks", "http://127.0.0.1:9/");
        assert!(m.contains("giving up after 4 s"), "{m}");
        assert!(m.contains("DescribeStacks"), "{m}");
    }
}
