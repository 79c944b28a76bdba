"""Video: uploads, the transcode job, subtitles, and the access-checked HLS files players fetch."""
