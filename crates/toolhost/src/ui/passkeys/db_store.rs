//! The enrolled passkeys in the state database ([`PgPasskeys`]), as a [`PasskeyStore`]: every
//! replica of a tenant offers and verifies the same passkeys, and a counter written back by
//! one replica is the one the next replica checks against.
//!
//! Moving a home to the database imports its `passkeys.json` once: each approver the
//! database does not know yet is copied in; from then on the database's rows are used.

use super::credentials::{
    note_use, push, unenrolled, ApproverPasskeys, CredentialsError, FilePasskeys, PasskeyStore,
};
use async_trait::async_trait;
use std::path::Path;
use toolhost_state::{PgPasskeys, StoredPasskeys};
use webauthn_rs::prelude::{AuthenticationResult, Passkey, Uuid};

/// One tenant's passkeys in the shared database.
pub struct DbPasskeys {
    rows: PgPasskeys,
}

impl DbPasskeys {
    /// The passkeys of `rows`' tenant, after importing those of `<home>/passkeys.json` the
    /// database does not have yet.
    pub async fn open(rows: PgPasskeys, home: &Path) -> Result<DbPasskeys, CredentialsError> {
        let store = DbPasskeys { rows };
        store.import(&FilePasskeys::new(home)).await?;
        Ok(store)
    }

    async fn import(&self, file: &FilePasskeys) -> Result<(), CredentialsError> {
        let mut imported = Vec::new();
        for (approver, passkeys) in file.read()?.approvers {
            if self
                .rows
                .import(&approver, &self.stored(&approver, &passkeys)?)
                .await?
            {
                imported.push(approver);
            }
        }
        if !imported.is_empty() {
            tracing::warn!(
                "imported the passkeys of {} from {} into {}: the database's copy is used from \
                 now on; remove the file",
                imported.join(", "),
                file.path().display(),
                self.rows.location()
            );
        }
        Ok(())
    }

    fn damaged(&self, approver: &str, reason: impl ToString) -> CredentialsError {
        CredentialsError::DamagedRow {
            approver: approver.to_string(),
            location: self.rows.location(),
            reason: reason.to_string(),
        }
    }

    fn stored(
        &self,
        approver: &str,
        passkeys: &ApproverPasskeys,
    ) -> Result<StoredPasskeys, CredentialsError> {
        Ok(StoredPasskeys {
            user_id: passkeys.user_id.to_string(),
            passkeys: serde_json::to_value(&passkeys.passkeys)
                .map_err(|e| self.damaged(approver, e))?,
        })
    }

    fn read(
        &self,
        approver: &str,
        stored: StoredPasskeys,
    ) -> Result<ApproverPasskeys, CredentialsError> {
        Ok(ApproverPasskeys {
            user_id: stored
                .user_id
                .parse()
                .map_err(|e| self.damaged(approver, format!("user handle: {e}")))?,
            passkeys: serde_json::from_value(stored.passkeys)
                .map_err(|e| self.damaged(approver, e))?,
        })
    }

    /// Changes `approver`'s passkeys under the database's lock on them.
    async fn change<T: Send>(
        &self,
        approver: &str,
        change: impl FnOnce(&mut ApproverPasskeys) -> T + Send,
    ) -> Result<T, CredentialsError> {
        self.rows
            .change(approver, |stored| {
                let mut mine = match stored {
                    Some(stored) => self.read(approver, stored)?,
                    None => unenrolled(),
                };
                let answer = change(&mut mine);
                Ok((self.stored(approver, &mine)?, answer))
            })
            .await
    }
}

#[async_trait]
impl PasskeyStore for DbPasskeys {
    async fn of(&self, approver: &str) -> Result<ApproverPasskeys, CredentialsError> {
        match self.rows.get(approver).await? {
            Some(stored) => self.read(approver, stored),
            None => Ok(unenrolled()),
        }
    }

    async fn add(
        &self,
        approver: &str,
        user_id: Uuid,
        passkey: Passkey,
    ) -> Result<usize, CredentialsError> {
        self.change(approver, |mine| {
            if mine.passkeys.is_empty() {
                // The handle the browser registered with becomes the approver's.
                mine.user_id = user_id;
            }
            push(mine, passkey)
        })
        .await
    }

    async fn record_use(
        &self,
        approver: &str,
        result: &AuthenticationResult,
    ) -> Result<(), CredentialsError> {
        self.change(approver, |mine| note_use(mine, result)).await
    }
}
