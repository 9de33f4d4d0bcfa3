//! [`WebhookOutbox`] over the SQLite ledger: the outbox's statements, with their refusals
//! turned into errors that say what to do.

use crate::outbox::sql::{self, Refused};
use crate::outbox::{
    Change, ChangeRow, Cursors, EndpointRow, EndpointState, FailedAttempt, MessageRow, NewEndpoint,
    NewMessage, WebhookOutbox,
};
use crate::{LedgerError, SqliteLedger};

impl SqliteLedger {
    fn refused(&self, refused: Refused, endpoint: u64) -> LedgerError {
        match refused {
            Refused::NoSuchEndpoint(id) => LedgerError::NoSuchEndpoint { id },
            Refused::Behind { stored, got } => LedgerError::CursorBehind {
                worker: format!("webhook endpoint {endpoint}"),
                stored,
                got,
            },
            Refused::NoSuchMessage { endpoint, number } => {
                LedgerError::NoSuchMessage { endpoint, number }
            }
            Refused::Sql(error) => self.failed(error),
        }
    }
}

impl WebhookOutbox for SqliteLedger {
    fn add_endpoint(
        &mut self,
        endpoint: &NewEndpoint<'_>,
        change: &Change<'_>,
    ) -> Result<u64, LedgerError> {
        self.writable()?;
        sql::add_endpoint(self.connection_mut(), endpoint, change).map_err(|e| self.failed(e))
    }

    fn endpoints(&self) -> Result<Vec<EndpointRow>, LedgerError> {
        sql::endpoints(self.connection()).map_err(|e| self.failed(e))
    }

    fn change_endpoint(
        &mut self,
        id: u64,
        state: Option<EndpointState>,
        settings_json: Option<&str>,
        change: &Change<'_>,
    ) -> Result<(), LedgerError> {
        self.writable()?;
        sql::change_endpoint(self.connection_mut(), id, state, settings_json, change)
            .map_err(|refused| self.refused(refused, id))
    }

    fn endpoint_changes(&self, endpoint: Option<u64>) -> Result<Vec<ChangeRow>, LedgerError> {
        sql::endpoint_changes(self.connection(), endpoint).map_err(|e| self.failed(e))
    }

    fn enqueue(
        &mut self,
        endpoint: u64,
        messages: &[NewMessage<'_>],
        cursors: Cursors,
        due_us: u64,
    ) -> Result<(), LedgerError> {
        self.writable()?;
        sql::enqueue(self.connection_mut(), endpoint, messages, cursors, due_us)
            .map_err(|refused| self.refused(refused, endpoint))
    }

    fn pending(&self, endpoint: u64) -> Result<Vec<MessageRow>, LedgerError> {
        sql::pending(self.connection(), endpoint).map_err(|e| self.failed(e))
    }

    fn record_failure(
        &mut self,
        endpoint: u64,
        number: u64,
        attempt: &FailedAttempt<'_>,
    ) -> Result<(), LedgerError> {
        self.writable()?;
        sql::record_failure(self.connection(), endpoint, number, attempt)
            .map_err(|refused| self.refused(refused, endpoint))
    }

    fn acknowledge(
        &mut self,
        endpoint: u64,
        number: u64,
        attempted_us: u64,
        acked_us: u64,
        answer_sha256: [u8; 32],
    ) -> Result<(), LedgerError> {
        self.writable()?;
        sql::acknowledge(
            self.connection(),
            endpoint,
            number,
            attempted_us,
            acked_us,
            answer_sha256,
        )
        .map_err(|refused| self.refused(refused, endpoint))
    }

    fn messages(
        &self,
        endpoint: u64,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<MessageRow>, LedgerError> {
        sql::messages(self.connection(), endpoint, before, limit).map_err(|e| self.failed(e))
    }
}
