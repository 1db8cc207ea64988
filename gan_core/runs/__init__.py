"""The run directory: the one contract between a trainer and everything that watches it.

``rundir`` is the folder itself (layout in its docstring; read by anyone, written by the trainer holding its
lock: ``run_lock``; its checkpoints as a reader finds them: ``saved_checkpoints``); ``naming`` the names on disk;
``listing`` finds, creates and resolves runs; ``records`` reads the metrics log as a viewer should (each record checked
by ``record_schema``) and ``metrics_tail`` follows it as it grows; ``temp_files`` cleans what killed writes left;
``comparison`` puts several runs side by side. Nothing here loads a model.
"""
from .health import warnings as run_warnings
from .listing import (
                     Skipped,
                     create_run,
                     filter_runs,
                     list_pretrained,
                     list_runs,
                     resolve_run,
                     scan_pretrained,
                     scan_runs,
)
from .naming import (
                     ACTIVE_STATES,
                     CREATION_GRACE_S,
                     LOCK_FD_ENV,
                     STATES,
                     default_pretrained_dir,
                     default_runs_dir,
                     epoch_file,
                     is_shipped,
                     run_folder_name,
                     sanitize_name,
                     shown_name,
                     transliterate,
)
from .quality import QUALITY_FILE, append_quality, quality_path, read_quality
from .records import epoch_label, read_records, superseded_dropped
from .rundir import RunDir
from .saved_checkpoints import Checkpoint
from .shipped import COPY_COMMAND, RETRAIN_COPY, copy_model, refuse_output_in_shipped, refuse_shipped
from .temp_files import STALE_TEMP_SECONDS, clean_temp_files, stale_temp_files

__all__ = ["ACTIVE_STATES", "COPY_COMMAND", "CREATION_GRACE_S", "LOCK_FD_ENV", "QUALITY_FILE", "RETRAIN_COPY",
           "STALE_TEMP_SECONDS", "STATES", "append_quality", "Checkpoint", "clean_temp_files", "copy_model",
           "create_run", "default_pretrained_dir", "default_runs_dir", "epoch_file", "epoch_label", "filter_runs",
           "is_shipped", "list_pretrained", "list_runs", "quality_path", "read_quality", "read_records",
           "refuse_output_in_shipped", "refuse_shipped", "resolve_run", "run_folder_name", "run_warnings", "RunDir",
           "sanitize_name", "scan_pretrained", "scan_runs", "shown_name", "Skipped", "stale_temp_files",
           "superseded_dropped", "transliterate"]
