"""Study evidence and honest credit: playback sessions, delivered segments, watched intervals, heartbeats."""
