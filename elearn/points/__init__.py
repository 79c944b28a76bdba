"""学习积分 (study points): points for completed lessons, passed quizzes, reading and daily study, and the branch
ranking an organisation can switch on. Points are separate from 学时 and never change credit."""
