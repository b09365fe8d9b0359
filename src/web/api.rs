//! The JS API: the `PollingManager` class and the module's functions (the
//! Promise helpers, `configureDefaults`, the old module's singleton's
//! bindings). Their TypeScript types are in `types`.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use super::boundary::{config_error, to_js};
use super::checks::{check_callbacks, CALLBACKS};
use super::manager::Manager;
use super::settings::{read_options, read_settings, read_settings_with, Settings, POLL_CALLBACKS};
use super::subscriber::{parse_poll_id, Subscriber};
use super::types::*;
use crate::core::config::{field_names, Options};
use crate::core::table::Kind;

fn opt(v: Option<&JsValue>) -> JsValue {
    v.cloned().unwrap_or(JsValue::UNDEFINED)
}

/// Watches generation jobs: stream first, polling as the fallback, one job per
/// id. `startPolling` with an id that is already watched does not start a
/// second poller: the new callbacks join the running job and both hear its
/// outcome (the new overrides are validated, then ignored).
///
/// A manager the page drops (garbage-collected) finishes its running jobs;
/// `stopAllPolling()` stops them, and the package's `free()` calls it first.
#[wasm_bindgen]
pub struct PollingManager {
    shared: Rc<Manager>,
}

#[wasm_bindgen]
impl PollingManager {
    /// Throws a RangeError for invalid or unknown options.
    #[wasm_bindgen(constructor)]
    pub fn new(options: Option<ManagerOptions>) -> Result<PollingManager, JsValue> {
        let settings = read_settings(&opt(options.as_deref()))?;
        Ok(Self {
            shared: Manager::new(settings),
        })
    }

    /// Watches a file until it completes, fails or is stopped. Throws a
    /// RangeError for invalid overrides; an invalid id is reported to onError.
    #[wasm_bindgen(js_name = startPolling)]
    pub fn start_polling(
        &self,
        #[wasm_bindgen(js_name = fileId)] file_id: &str,
        callbacks: Option<PollingCallbacks>,
        overrides: Option<PollingOverrides>,
    ) -> Result<(), JsValue> {
        let callbacks = opt(callbacks.as_deref());
        start(
            &self.shared,
            Kind::File,
            file_id,
            callbacks,
            overrides.as_deref(),
        )
    }

    /// `startPolling` for a project record (`projectUrl`); polling only.
    #[wasm_bindgen(js_name = startProjectPolling)]
    pub fn start_project_polling(
        &self,
        #[wasm_bindgen(js_name = projectId)] project_id: &str,
        callbacks: Option<ProjectCallbacks>,
        overrides: Option<PollingOverrides>,
    ) -> Result<(), JsValue> {
        start(
            &self.shared,
            Kind::Project,
            project_id,
            opt(callbacks.as_deref()),
            overrides.as_deref(),
        )
    }

    /// Stops watching a file for every subscriber: no callback fires for it
    /// afterwards, and promises waiting on it resolve with kind "stopped".
    #[wasm_bindgen(js_name = stopPolling)]
    pub fn stop_polling(&self, #[wasm_bindgen(js_name = fileId)] file_id: &str) -> bool {
        self.shared.stop(Kind::File, file_id)
    }

    #[wasm_bindgen(js_name = stopProjectPolling)]
    pub fn stop_project_polling(
        &self,
        #[wasm_bindgen(js_name = projectId)] project_id: &str,
    ) -> bool {
        self.shared.stop(Kind::Project, project_id)
    }

    /// Stops every job silently.
    #[wasm_bindgen(js_name = stopAllPolling)]
    pub fn stop_all_polling(&self) {
        self.shared.stop_all();
    }

    /// Whether a file or project job with this id is running.
    #[wasm_bindgen(js_name = isPolling)]
    pub fn is_polling(&self, id: &str) -> bool {
        self.shared.is_active(Kind::File, id) || self.shared.is_active(Kind::Project, id)
    }

    /// Jobs running now.
    #[wasm_bindgen(getter, js_name = activeCount)]
    pub fn active_count(&self) -> u32 {
        self.shared.active_count() as u32
    }

    /// Progress of every running job, file and project.
    #[wasm_bindgen(js_name = getPollingStatus)]
    pub fn get_polling_status(&self) -> ProgressList {
        let list: js_sys::Array = self.shared.statuses().into_iter().collect();
        list.unchecked_into()
    }

    /// Aggregates over the jobs this manager finished.
    pub fn metrics(&self) -> MetricsObject {
        to_js(&self.shared.metrics()).unchecked_into()
    }

    /// The Promise form on this manager (its urls, its stream): resolves
    /// with the outcome, never rejects. Invalid options throw a `RangeError`
    /// at the call, as the manager's other methods do (the module's
    /// `pollFileCompletion` rejects with it instead).
    #[wasm_bindgen(js_name = pollFileCompletion)]
    pub fn poll_file_completion(
        &self,
        #[wasm_bindgen(js_name = fileId)] file_id: &str,
        options: Option<PollOptions>,
    ) -> Result<FileResultPromise, JsValue> {
        poll(&self.shared, Kind::File, file_id, options.as_deref()).map(JsCast::unchecked_into)
    }

    /// As `pollFileCompletion`, for a project.
    #[wasm_bindgen(js_name = pollProjectCompletion)]
    pub fn poll_project_completion(
        &self,
        #[wasm_bindgen(js_name = projectId)] project_id: &str,
        options: Option<ProjectPollOptions>,
    ) -> Result<ProjectResultPromise, JsValue> {
        poll(&self.shared, Kind::Project, project_id, options.as_deref())
            .map(JsCast::unchecked_into)
    }

    /// What `startPolling` checks of a callbacks object, alone: the React
    /// hooks wrap the page's callbacks, and check the page's own with it.
    /// Not part of the API (no type, `__`).
    #[wasm_bindgen(js_name = "__checkCallbacks", skip_typescript)]
    pub fn check_callbacks_of(callbacks: &JsValue) -> Result<(), JsValue> {
        check_callbacks(callbacks, CALLBACKS, field_names::<Options>)
    }
}

fn start(
    shared: &Rc<Manager>,
    kind: Kind,
    id: &str,
    callbacks: JsValue,
    overrides: Option<&JsValue>,
) -> Result<(), JsValue> {
    check_callbacks(&callbacks, CALLBACKS, field_names::<Options>)?;
    let sub = Subscriber::callbacks(callbacks);
    let options = read_options(&opt(overrides), &[])?;
    shared.start(kind, id, sub, &options).map_err(config_error)
}

fn poll(
    shared: &Rc<Manager>,
    kind: Kind,
    id: &str,
    options: Option<&JsValue>,
) -> Result<Promise, JsValue> {
    poll_with(shared, kind, id, options, None)
}

fn poll_with(
    shared: &Rc<Manager>,
    kind: Kind,
    id: &str,
    options: Option<&JsValue>,
    checker: Option<Function>,
) -> Result<Promise, JsValue> {
    let options = opt(options);
    let parsed = read_options(&options, POLL_CALLBACKS)?;
    let mut resolve_fn: Option<Function> = None;
    let promise = Promise::new(&mut |resolve, _reject| resolve_fn = Some(resolve));
    if let Some(resolve) = resolve_fn {
        let sub = Subscriber::promise(resolve, options);
        shared
            .start_with(kind, id, sub, &parsed, checker)
            .map_err(config_error)?;
    }
    Ok(promise)
}

thread_local! {
    /// The module's shared manager for the free functions (created on first
    /// use, replaced by `configureDefaults`): deduplication and the stream
    /// cap across calls.
    static DEFAULT: RefCell<Option<Rc<Manager>>> = const { RefCell::new(None) };
}

fn default_manager() -> Rc<Manager> {
    DEFAULT.with(|d| {
        d.borrow_mut()
            .get_or_insert_with(|| Manager::new(Settings::helpers()))
            .clone()
    })
}

/// Sets the options of the module's shared manager, the one behind
/// `pollFileCompletion`, `pollProjectCompletion` and `smartPollingManager`.
/// Like the old module it polls only; `{ eventsUrl: "/api/events/file.{id}" }`
/// opts into the stream. Throws a RangeError for invalid options, and an
/// Error while that manager has polls running (their settings cannot change).
#[wasm_bindgen(js_name = configureDefaults)]
pub fn configure_defaults(options: Option<ManagerOptions>) -> Result<(), JsValue> {
    let settings = read_settings_with(&opt(options.as_deref()), None)?;
    // Any job in the table, one refused at its start included: its promise
    // is still to be told.
    let busy = DEFAULT.with(|d| d.borrow().as_ref().is_some_and(|m| m.has_jobs()));
    if busy {
        return Err(js_sys::Error::new(
            "smart-polling: configureDefaults() cannot change the shared manager while polls run \
             on it. Call it once at start-up, before the first pollFileCompletion(), \
             pollProjectCompletion() or smartPollingManager.startPolling().",
        )
        .into());
    }
    let old = DEFAULT.with(|d| d.replace(Some(Manager::new(settings))));
    drop(old);
    Ok(())
}

/// Waits for a file on the module's shared manager (default urls). Use a
/// `PollingManager` for other urls.
#[wasm_bindgen(js_name = pollFileCompletion)]
pub fn poll_file_completion(
    #[wasm_bindgen(js_name = fileId)] file_id: &str,
    options: Option<PollOptions>,
) -> Result<FileResultPromise, JsValue> {
    poll(&default_manager(), Kind::File, file_id, options.as_deref()).map(JsCast::unchecked_into)
}

/// Waits for a project on the module's shared manager (default urls).
#[wasm_bindgen(js_name = pollProjectCompletion)]
pub fn poll_project_completion(
    #[wasm_bindgen(js_name = projectId)] project_id: &str,
    options: Option<ProjectPollOptions>,
) -> Result<ProjectResultPromise, JsValue> {
    poll(
        &default_manager(),
        Kind::Project,
        project_id,
        options.as_deref(),
    )
    .map(JsCast::unchecked_into)
}

/// `smartPollingManager.startPolling(pollId, checker, options)` on the
/// module's shared manager: drives the page's own async checker with this
/// package's scheduler. The package's entry wraps it (it loads the module
/// first); call that instead.
#[wasm_bindgen(js_name = startCheckPolling)]
pub fn start_check_polling(
    #[wasm_bindgen(js_name = pollId)] poll_id: &str,
    checker: Function,
    options: Option<CheckOptions>,
) -> Result<CheckResultPromise, JsValue> {
    if poll_id.is_empty() {
        return Err(super::boundary::range_error("pollId must not be empty"));
    }
    if !checker.is_function() {
        return Err(js_sys::TypeError::new(
            "checker must be a function returning (a promise of) { completed, data?, error?, shouldContinue? }",
        )
        .into());
    }
    poll_with(
        &default_manager(),
        Kind::Check,
        poll_id,
        options.as_deref(),
        Some(checker),
    )
    .map(JsCast::unchecked_into)
}

/// Stops the shared manager's jobs under a poll id (`file-{id}`,
/// `project-{id}`, and a checker started under the same name); true if
/// there was one.
#[wasm_bindgen(js_name = stopPollId)]
pub fn stop_poll_id(#[wasm_bindgen(js_name = pollId)] poll_id: &str) -> bool {
    let m = default_manager();
    (parse_poll_id(poll_id).into_iter())
        .filter(|(kind, id)| !id.is_empty() && m.stop(*kind, id))
        .count()
        > 0
}

#[wasm_bindgen(js_name = isPollIdActive)]
pub fn is_poll_id_active(#[wasm_bindgen(js_name = pollId)] poll_id: &str) -> bool {
    let m = default_manager();
    parse_poll_id(poll_id)
        .into_iter()
        .any(|(kind, id)| !id.is_empty() && m.is_active(kind, id))
}

#[wasm_bindgen(js_name = stopAllPollIds)]
pub fn stop_all_poll_ids() {
    default_manager().stop_all();
}

/// `getPollingStatus()` of the old module, over the shared manager.
#[wasm_bindgen(js_name = pollIdStatuses)]
pub fn poll_id_statuses() -> PollStatusList {
    let list: js_sys::Array = default_manager().poll_statuses().into_iter().collect();
    list.unchecked_into()
}
