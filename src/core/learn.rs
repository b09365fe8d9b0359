//! A polling schedule learned from the completion times of finished jobs
//! (issue 10): poll densely where completion is likely, sparsely elsewhere.
