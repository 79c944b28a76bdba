"""What members do around the lessons (issue 20): bookmarks and notes, questions and answers under a lesson,
course ratings. None of it changes credit."""
