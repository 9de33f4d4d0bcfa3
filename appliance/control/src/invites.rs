//! Partner invites, kept in the ledger by the [`Bundles`] actor, whose book also puts the
//! tenants they make in force: made (only its secret's digest stored), listed, revoked. Each
//! change is a control event on the timeline, written with it.

use actix::prelude::*;
use tf_ledger::{InviteRefusal, InviteRow, NewInvite};
use tf_seam::clock::unix_micros;

use crate::Bundles;
use crate::error::ControlError;

/// Stores an invite; its number.
#[derive(Debug, Message)]
#[rtype(result = "Result<u64, ControlError>")]
pub struct CreateInvite {
    /// SHA-256 of the invite's secret.
    pub digest: [u8; 32],
    /// The tenant, or a prefix ending in `*`.
    pub tenant: String,
    /// The template (JSON, checked by the caller).
    pub template: String,
    /// Who makes it.
    pub created_by: String,
    /// Why.
    pub reason: String,
    /// When it is made, Unix microseconds.
    pub created_us: u64,
    /// When it stops being usable.
    pub expires_us: u64,
}

/// Every invite, newest first.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<InviteRow>, ControlError>")]
pub struct ListInvites;

/// Revokes an open invite.
#[derive(Debug, Message)]
#[rtype(result = "Result<Result<InviteRow, InviteRefusal>, ControlError>")]
pub struct RevokeInvite {
    /// The invite.
    pub id: u64,
    /// Who revokes it.
    pub by: String,
    /// Why.
    pub reason: String,
}

impl Handler<CreateInvite> for Bundles {
    type Result = Result<u64, ControlError>;

    fn handle(&mut self, invite: CreateInvite, _: &mut Self::Context) -> Self::Result {
        Ok(self.book.ledger.add_invite(&NewInvite {
            digest: invite.digest,
            tenant: &invite.tenant,
            template: &invite.template,
            created_by: &invite.created_by,
            reason: &invite.reason,
            created_us: invite.created_us,
            expires_us: invite.expires_us,
        })?)
    }
}

impl Handler<ListInvites> for Bundles {
    type Result = Result<Vec<InviteRow>, ControlError>;

    fn handle(&mut self, _: ListInvites, _: &mut Self::Context) -> Self::Result {
        Ok(self.book.ledger.invites()?)
    }
}

impl Handler<RevokeInvite> for Bundles {
    type Result = Result<Result<InviteRow, InviteRefusal>, ControlError>;

    fn handle(&mut self, revoke: RevokeInvite, _: &mut Self::Context) -> Self::Result {
        Ok(self
            .book
            .ledger
            .revoke_invite(revoke.id, &revoke.by, &revoke.reason, unix_micros())?)
    }
}
