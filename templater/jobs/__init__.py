"""The jobs layer: presets, printer profiles, measurements, the atomic job-folder writer and the
workflows the commands call (make, calibrate)."""
