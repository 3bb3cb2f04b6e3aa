//! Tasks: read `info`, wait with a progress callback, turn a task error into
//! a typed [`Error`] naming the fault.
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};
use crate::property::FilterSpec;
use crate::soap::Node;
use crate::{Client, MoRef};

/// `TaskInfo.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    Queued,
    Running,
    Success,
    Error,
}

/// The parts of `TaskInfo` ferry uses.
#[derive(Debug, Clone)]
pub struct TaskInfo {
    pub task: MoRef,
    pub state: TaskState,
    /// Percent done, when the server reports it.
    pub progress: Option<i32>,
    /// `descriptionId`, e.g. `VirtualMachine.powerOn`.
    pub description_id: String,
    /// The object the task works on.
    pub entity: Option<MoRef>,
    /// `info.result` on success.
    pub result: Option<Node>,
    /// `(fault type, localized message)` on error.
    pub error: Option<(String, String)>,
}

impl TaskInfo {
    fn from_node(task: &MoRef, n: &Node) -> Result<TaskInfo> {
        let state = match n.text_of("state") {
            Some("queued") => TaskState::Queued,
            Some("running") => TaskState::Running,
            Some("success") => TaskState::Success,
            Some("error") => TaskState::Error,
            other => {
                return Err(Error::protocol(format!(
                    "task {task} has an unknown state {other:?}"
                )));
            }
        };
        Ok(TaskInfo {
            task: task.clone(),
            state,
            progress: n.text_of("progress").and_then(|p| p.trim().parse().ok()),
            description_id: n.text_of("descriptionId").unwrap_or_default().to_string(),
            entity: n.child("entity").map(MoRef::from_node),
            result: n.child("result").cloned(),
            error: n.child("error").map(crate::soap::localized_fault),
        })
    }
}

impl Client {
    /// Read a task's `info`.
    pub async fn task_info(&self, task: &MoRef) -> Result<TaskInfo> {
        let objs = self
            .retrieve_properties(&FilterSpec::objects(std::slice::from_ref(task), &["info"]))
            .await?;
        let obj = objs.first().ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("task {task} is not known to the server"),
            )
            .with_fault("ManagedObjectNotFound")
        })?;
        if let Some(m) = obj.missing.first() {
            return Err(Error::new(
                Error::kind_of_fault(&m.fault),
                format!("cannot read task {task}: {} {}", m.fault, m.message),
            )
            .with_fault(m.fault.clone()));
        }
        let info = obj
            .get("info")
            .ok_or_else(|| Error::protocol(format!("task {task} has no info")))?;
        TaskInfo::from_node(task, info)
    }

    /// Wait until `task` ends; `progress` sees each new percentage. Returns
    /// `info.result` on success; a task error becomes an error of kind
    /// [`ErrorKind::Task`] (or [`ErrorKind::NotFound`] for
    /// `ManagedObjectNotFound`) naming the fault.
    pub async fn wait_task(
        &self,
        task: &MoRef,
        mut progress: impl FnMut(i32) + Send,
    ) -> Result<Option<Node>> {
        let mut delay = Duration::from_millis(50);
        let mut last = None;
        loop {
            let info = self.task_info(task).await?;
            if info.progress.is_some() && info.progress != last {
                last = info.progress;
                if let Some(p) = last {
                    progress(p);
                }
            }
            match info.state {
                TaskState::Success => return Ok(info.result),
                TaskState::Error => {
                    let (fault, msg) = info.error.unwrap_or_default();
                    let kind = match Error::kind_of_fault(&fault) {
                        ErrorKind::NotFound => ErrorKind::NotFound,
                        _ => ErrorKind::Task,
                    };
                    let on = info.entity.map(|e| format!(" on {e}")).unwrap_or_default();
                    let what = if info.description_id.is_empty() {
                        task.to_string()
                    } else {
                        format!("{} ({task})", info.description_id)
                    };
                    return Err(Error::new(
                        kind,
                        format!("task {what}{on} failed with {fault}: {msg}"),
                    )
                    .with_fault(fault));
                }
                TaskState::Queued | TaskState::Running => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(1));
                }
            }
        }
    }
}
