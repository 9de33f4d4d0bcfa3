//! Requests the control plane answers, on a shard: each `Onboard` read off an onboarding
//! connection and each tenant's `TermsRequest` goes to the control plane through the partner
//! desk (a full desk is answered busy at once), and a task of its own waits for the answer and
//! puts it on the stream. They are rare and their answers wait for a bundle switch, so the task
//! looks for the answer on a timer rather than on a wakeup shared with the control thread.

use std::time::Duration;

use std::net::IpAddr;

use tf_seam::{DeskRequest, PartnerDesk, PendingAnswer};

use super::replies;
use super::routes::Route;

/// How often a waiting onboarding looks for its answer.
const LOOK_EVERY: Duration = Duration::from_millis(20);

/// Hands a request to the control plane, or answers it at once when the desk is full; the
/// answer goes to `answer_with`.
pub fn forward(
    desk: &PartnerDesk,
    request: DeskRequest,
    source: IpAddr,
    route: Route,
    answer_with: impl Fn(Route, Vec<u8>) + 'static,
) {
    let request_id = request.request_id();
    match desk.ask(request, source) {
        Ok(pending) => {
            glommio::spawn_local(wait(pending, request_id, route, answer_with)).detach();
        }
        Err(refused) => answer_with(route, replies::error(request_id, refused.into())),
    }
}

async fn wait(
    pending: PendingAnswer,
    request_id: u64,
    route: Route,
    answer_with: impl Fn(Route, Vec<u8>),
) {
    // The control plane always answers (or, stopping, drops the request, which reads as
    // shutting down), so the wait ends.
    let answer = loop {
        if let Some(answer) = pending.try_take() {
            break answer;
        }
        glommio::timer::sleep(LOOK_EVERY).await;
    };
    answer_with(route, replies::from_desk(request_id, answer));
}
