"""The plan's rules as data: one place for every policy number and label (DESIGN.md, "What the plan asks for")."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l

from elearn.access import Role

ROLES = {
    Role.MEMBER: _l("党员"),
    Role.LECTURER: _l("讲师"),
    Role.ORG_ADMIN: _l("组织管理员"),
    Role.SITE_ADMIN: _l("系统管理员"),
}

MEMBER_CATEGORIES = {
    "member": _l("普通党员"),
    "branch_secretary": _l("基层党组织书记"),
    "cadre": _l("党员干部"),
}

ORG_KINDS = {
    "committee": _l("党委"),
    "general_branch": _l("党总支"),
    "branch": _l("党支部"),
}
# A committee may contain any kind, a general branch only branches, a branch nothing.
ORG_CHILD_KINDS = {
    "committee": ("committee", "general_branch", "branch"),
    "general_branch": ("branch",),
    "branch": (),
}

# 分级分类: sector codes, grouped as in the plan.
SECTORS = {
    "rural": _l("农村"),
    "community": _l("城市社区"),
    "government": _l("机关"),
    "institution.culture": _l("事业单位·宣传思想文化"),
    "institution.education": _l("事业单位·教育系统"),
    "institution.student": _l("事业单位·学生"),
    "institution.research": _l("事业单位·科研机构"),
    "institution.health": _l("事业单位·医药卫生"),
    "enterprise.soe": _l("企业·国有企业"),
    "enterprise.finance": _l("企业·金融企业"),
    "enterprise.private": _l("企业·民营企业"),
    "emerging.economic": _l("新兴领域·新经济组织"),
    "emerging.social": _l("新兴领域·新社会组织"),
    "emerging.gig": _l("新兴领域·新就业群体"),
}

# The seven basic tasks (基本任务): every course belongs to one.
CONTENT_CATEGORIES = {
    "political_theory": _l("政治理论教育"),
    "political_training": _l("政治教育和政治训练"),
    "party_rules": _l("党章党规党纪教育"),
    "party_purpose": _l("党的宗旨教育"),
    "revolutionary_tradition": _l("革命传统教育"),
    "situation_policy": _l("形势政策教育"),
    "knowledge_skills": _l("知识技能教育"),
}


@dataclass(frozen=True)
class StudyPolicy:
    """The cycle and its requirements. Change here, nowhere else."""

    cycle_start: date = date(2024, 1, 1)
    cycle_end: date = date(2028, 12, 31)
    hours_per_day: int = 8
    minutes_per_online_hour: int = 45
    member_cycle_hours: int = 160
    secretary_cycle_hours: int = 280
    secretary_yearly_offjob_hours: int = 40
    theory_share: float = 0.5
    cadre_cycle_hours: int = 160  # the cadre plan's target is configurable; default mirrors members
    completion_coverage: float = 0.90
    # The member's clock (elearn.study.services): media seconds credited across all lessons, readings and
    # sessions never exceed the wall-clock seconds that passed × ELEARN_MAX_PLAYBACK_RATE (config) plus this
    # slack, which absorbs network jitter and clock granularity and is never replenished beyond itself.
    report_allowance_s: float = 5.0
    # Pace: hours expected by a date are pro rata over the cycle, counted from this many days after its start.
    pace_grace_days: int = 30
    # A report may carry at most this many intervals; a longer list is refused as malformed.
    report_max_intervals: int = 200
    # A report covering more media seconds than this is refused (the player reports every 30 s: HEARTBEAT).
    report_max_span_s: float = 3600.0
    # Readings: active reading time counts at most 1 s per wall-clock second (plus the allowance above) and
    # at most the reading's estimated time; the reading is credited once, when active time reaches the
    # estimate × reading_completion (its estimated minutes / minutes_per_online_hour 学时).
    reading_completion: float = 1.0
    reading_min_minutes: float = 1.0  # readings estimated shorter than this earn nothing
    # Quizzes: default 学时 for a pass, default pass mark (percent) and attempts, when the lecturer sets none.
    quiz_default_hours: float = 0.5
    quiz_default_pass_percent: int = 60
    quiz_default_attempts: int = 3
    quiz_time_grace_s: int = 30  # late submissions within this grace (network) are still graded
    # Offline/off-job training records: at most this many 学时 per record (a month of full days).
    offline_max_hours: float = 8 * 31

    def cycle_hours_for(self, category: str) -> int:
        return {
            "member": self.member_cycle_hours,
            "branch_secretary": self.secretary_cycle_hours,
            "cadre": self.cadre_cycle_hours,
        }[category]


POLICY = StudyPolicy()

# Ledger entry kinds (elearn.ledger.models.StudyCredit.kind) and their labels.
CREDIT_KINDS = {
    "lesson": _l("课程视频"),
    "course": _l("课程结业"),
    "reading": _l("阅读材料"),
    "quiz": _l("测验通过"),
    "offline": _l("线下培训"),
    "group": _l("视频集中培训"),
    "correction": _l("更正"),
}

# Organiser level of an offline training record.
ORGANISER_LEVELS = {
    "county_above": _l("县级及以上党委"),
    "below_county": _l("县级以下党组织"),
}

QUESTION_KINDS = {
    "single": _l("单选题"),
    "multiple": _l("多选题"),
    "truefalse": _l("判断题"),
}

# When a member sees the correct answers of a quiz (a setting per quiz; default "final").
QUIZ_ANSWERS_SHOWN = {
    "final": _l("最后一次作答或通过后"),
    "each": _l("每次作答后"),
    "never": _l("从不显示"),
}

# Attention checks (防挂机, a course setting, off by default): the next prompt is due after a random number of
# credited media seconds between these two, counted per playback session; while it is unanswered, nothing
# more is credited.
ATTENTION_CHECK_AFTER_S = (300.0, 900.0)

# Why a progress report credited less than it claimed (elearn.study; counted per member and reason, shown to
# the member's org admin on the member page).
REPORT_REFUSALS = {
    "duplicate": _l("重复或过期的报告"),
    "hidden": _l("页面不可见时的时间"),
    "rate": _l("超过允许的倍速"),
    "budget": _l("超过实际经过的时间"),
    "evidence": _l("未下载对应的视频片段"),
    "early": _l("早于视频片段可能播放完的时间"),
    "session_mismatch": _l("播放会话不属于该内容"),
    "malformed": _l("格式错误的报告"),
    "attention": _l("未回应防挂机确认"),
}

# Requirement status of a member (elearn.ledger.requirements).
REQUIREMENT_STATES = {
    "exempt": _l("免予要求"),
    "met": _l("已达标"),
    "on_pace": _l("进度正常"),
    "behind": _l("进度落后"),
}

# Request rates no person reaches (Flask-Limiter notation): refused sign-ins per address and per name typed
# (unknown names count like real ones, so the limit tells nothing about which exist; successful sign-ins do
# not count, so a meeting room behind one address is never throttled); heartbeats and searches per user
# (a player reports every ~15 s, plus pause, seek and end).
LOGIN_LIMIT_PER_ADDRESS = "30 per minute; 300 per hour"
LOGIN_LIMIT_PER_NAME = "10 per minute; 60 per hour"
HEARTBEAT_LIMIT_PER_USER = "120 per minute"
SEARCH_LIMIT_PER_USER = "60 per minute"

# Server-side login sessions (elearn.auth.services): why a session ended, as the member's device list says it
# (timeouts and limits: SessionPolicy below).
SESSION_END_REASONS = {
    "logout": _l("已退出"),
    "everywhere": _l("在所有设备上退出"),
    "password": _l("密码已修改"),
    "deactivated": _l("账号已停用"),
    "reset": _l("管理员重置了密码"),
    "revoked": _l("已在其他设备上退出"),
    "rotated": _l("已续期"),
}

# --- Media: lecturer uploads, transcoding, playback (issue 3) ---
# Labels of MediaAsset.status as lecturers see them in the studio.
ASSET_STATUS_LABELS = {
    "uploading": _l("上传中"),
    "queued": _l("排队中"),
    "transcoding": _l("转码中"),
    "ready": _l("可播放"),
    "failed": _l("失败"),
}
# Labels of Course.status (the review states) in the studio and review pages.
COURSE_STATUS_LABELS = {
    "draft": _l("草稿"),
    "in_review": _l("审核中"),
    "approved": _l("已通过"),
    "returned": _l("已退回"),
}
# A transcode is tried this many times (the first run plus retries) before the asset is marked failed.
TRANSCODE_ATTEMPTS = 3
# Seconds before the first retry; each further retry waits twice as long.
TRANSCODE_RETRY_DELAY_S = 60
TRANSCODE_RETRY_BACKOFF = 2
# The worker writes progress at least every PROGRESS_STEP of the job and every HEARTBEAT_S seconds.
TRANSCODE_PROGRESS_STEP = 0.02
TRANSCODE_HEARTBEAT_S = 30
# A transcode whose heartbeat is older than this lost its worker and is queued again. Generous, because
# the storyboard of a long lecture is made after the last progress report (ELEARN_TRANSCODE_STALE_AFTER_S).
TRANSCODE_STALE_AFTER_S = 30 * 60
if os.environ.get("ELEARN_TRANSCODE_STALE_AFTER_S"):
    # At least five heartbeats: shorter, a running transcode would look dead and be taken over.
    TRANSCODE_STALE_AFTER_S = max(int(float(os.environ["ELEARN_TRANSCODE_STALE_AFTER_S"])), 5 * TRANSCODE_HEARTBEAT_S)
# Upload sessions left open longer than this may be removed by the sweep.
UPLOAD_SESSION_MAX_AGE_S = 7 * 24 * 3600
# The sweep removes the files (HLS output, source upload) of an asset that no lesson plays any more: a
# replaced video this long after its lesson switched to the new one, so that a member who started the old
# version keeps watching it; a failed or cancelled upload this long after it failed.
MEDIA_SUPERSEDED_GRACE_S = 24 * 3600
# Assets whose files one sweep removes at most; the rest wait for the next run.
MEDIA_CLEANUP_BATCH = 100
# Languages a lecturer may give subtitles in (BCP 47 tag → menu label).
SUBTITLE_LANGUAGES = {
    "zh-CN": _l("中文"),
    "en": _l("英文"),
}
# Playback speeds offered by the player; those above ELEARN_MAX_PLAYBACK_RATE are hidden.
PLAYBACK_RATES = (0.75, 1.0, 1.25, 1.5, 1.75, 2.0)
# How long browsers may keep a media segment (private cache only: segments are access-checked).
MEDIA_SEGMENT_MAX_AGE_S = 24 * 3600
# Encrypted segments are ciphertext that never changes: shared caches and CDNs may keep them for a year.
PUBLIC_SEGMENT_MAX_AGE_S = 365 * 24 * 3600

# --- Readings and search (issue 5) ---
# Largest reading file an admin or lecturer may upload (the parser itself accepts more).
READING_MAX_BYTES = 20 * 1024 * 1024
READING_SOURCE_KINDS = {
    "document": _l("文件资料"),
    "book": _l("图书选编"),
}
# Kinds of search results, in the order the filter lists them.
SEARCH_KINDS = {
    "reading": _l("阅读材料"),
    "course": _l("课程"),
    "lesson": _l("课时"),
    "subtitle": _l("视频字幕"),
}
SEARCH_PAGE_SIZE = 10
SEARCH_QUERY_MAX_CHARS = 200
# The longest single text value (path, query, form field, JSON string) a request may carry; longer is refused
# at the edge (elearn.http.inputs). Above every text we store; readings arrive as files, not as fields.
TEXT_VALUE_MAX_CHARS = 200_000

# --- Publishing, organisation tools and analytics (issue 6) ---


@dataclass(frozen=True)
class AnalyticsPolicy:
    """Shape of the organisation dashboard (elearn.analytics.dashboard)."""

    # Lower edges of the hours-distribution bins (学时 in the cycle); the last bin is open-ended.
    hours_bins: tuple[float, ...] = (0, 10, 20, 40, 80, 120, 160, 280)
    trend_months: int = 12  # months shown in the monthly trend, ending with the current one
    at_risk_limit: int = 50  # at-risk members listed on the page (the export lists all)
    series_limit: int = 20  # series shown in "completions per series"
    # Snapshots (elearn.analytics.models): a snapshot queued or running longer than this is taken for dead.
    snapshot_timeout_minutes: int = 30
    snapshot_every_minutes: int = 10  # the periodic job looks for changed data this often
    # A snapshot recomputes only the organisations whose members were credited since the previous one, and
    # copies the others' rows, unless more than this share of them changed (or more than the count: the ids
    # go into one IN list); then it recomputes the whole tree.
    incremental_max_share: float = 0.5
    incremental_max_orgs: int = 5000
    export_keep_hours: int = 24  # export files are removed after this


ANALYTICS = AnalyticsPolicy()


@dataclass(frozen=True)
class ImportPolicy:
    """Bulk member import (elearn.orgs.imports). Rows are few enough to check in one request:
    each password is hashed with argon2, which is deliberately slow."""

    max_rows: int = 500
    max_bytes: int = 2 * 1024 * 1024
    max_columns: int = 50  # headings beyond this column are refused (a row is never wider than its heading)
    # An XLSX file is a zip of XML that openpyxl parses at ~4 µs an element: before it does, its XML parts are
    # measured (their unpacked sizes, then their tags counted while unpacking), so that a small file (300,000
    # rows compress to 100 KB) costs milliseconds to refuse, never seconds. 200,000 tags (each "<" of the XML)
    # are seven times what a workbook of max_rows rows of all nine columns holds.
    xlsx_max_unpacked_bytes: int = 64 * 1024 * 1024
    xlsx_max_tags: int = 200_000


IMPORT = ImportPolicy()

LECTURER_STATUS_LABELS = {
    "active": _l("在库"),
    "paused": _l("暂停"),
    "retired": _l("已退出师资库"),
}
TRAINING_PLAN_STATUS_LABELS = {
    "draft": _l("草稿"),
    "filed": _l("已备案"),
}

# Reader (static/js/reader.js, integration): reading counts as active while the page is visible and the
# member scrolled, touched or pressed a key within the last READER_IDLE_S seconds; the reader reports its
# active seconds every READER_REPORT_INTERVAL_S seconds and when the page is hidden or left.
READER_IDLE_S = 60
READER_REPORT_INTERVAL_S = 15


# Audit log actions as admins read them (elearn.audit.services; unknown codes are shown as they are).
AUDIT_ACTIONS = {
    "user.create": _l("新建用户"),
    "user.update": _l("修改用户"),
    "user.transfer": _l("组织关系转接"),
    "user.import": _l("批量导入党员"),
    "user.password": _l("修改密码"),
    "auth.login": _l("登录成功"),
    "auth.failure": _l("登录失败（密码错误）"),
    "auth.lockout": _l("登录失败次数过多，账号临时锁定"),
    "auth.sessions_end": _l("结束登录会话"),
    "token.revoke": _l("吊销 API 令牌"),
    "org.create": _l("新建组织"),
    "course.create": _l("新建课程"),
    "course.update": _l("修改课程"),
    "course.submit": _l("提交审核"),
    "course.approve": _l("审核通过"),
    "course.return": _l("退回修改"),
    "series.create": _l("新建专题"),
    "series.update": _l("修改专题"),
    "series.publish": _l("发布专题"),
    "series.unpublish": _l("撤回专题"),
    "reading.upload": _l("上传阅读材料"),
    "reading.attach": _l("关联阅读材料"),
    "reading.detach": _l("取消关联阅读材料"),
    "reading.delete": _l("删除阅读材料"),
    "quiz.question.add": _l("添加题目"),
    "quiz.question.revise": _l("修改题目"),
    "quiz.question.retire": _l("移出题目"),
    "quiz.save": _l("保存测验"),
    "credit.correct": _l("更正学时"),
    "training.record": _l("登记线下培训"),
    "training.attendees": _l("添加培训学员"),
    "group.schedule": _l("安排集中培训"),
    "group.attendance": _l("集中培训签到"),
    "group.cancel": _l("取消集中培训"),
    "training_plan.create": _l("新建培训计划"),
    "training_plan.add_training": _l("计划中添加培训"),
    "training_plan.assign": _l("安排参训人员"),
    "training_plan.unassign": _l("取消参训安排"),
    "training_plan.file": _l("计划备案"),
    "lecturer.create": _l("新增师资"),
    "lecturer.update": _l("修改师资"),
    "analytics.export": _l("导出学习分析"),
    "analytics.export.download": _l("下载学习分析导出"),
    "audit.export": _l("导出审计日志"),
    "ledger.verify": _l("学时台账校验通过"),
    "ledger.broken": _l("学时台账校验发现篡改"),
    "ledger.seal": _l("旧台账记录纳入哈希链"),
    "security.alert.ack": _l("处理安全告警"),
}
AUDIT_PAGE_SIZE = 50
# Security events (the audit log) are kept at least this long (等保 2.0: ≥ 6 months); the app deletes none, ever:
# AuditEntry rows refuse updates and deletes, and there is no purge.
AUDIT_RETENTION_DAYS = 180
# Audit actions that also raise a security alert for site admins (shown on every page of theirs until handled).
SECURITY_ALERT_ACTIONS = {
    "auth.lockout": _l("账号因连续登录失败被临时锁定"),
    "ledger.broken": _l("学时台账校验发现篡改"),
}


# --- Session and password rules (issue 18, 等保 2.0 level 3: 身份鉴别, 访问控制) ---


@dataclass(frozen=True)
class SessionPolicy:
    """How long a server-side login session counts (elearn.auth.session_rules). "Admins" are org and site
    admins; everyone else is a member here."""

    # Idle timeout: a session unused this long ends at its next request. Members' default may be changed by
    # ELEARN_MEMBER_IDLE_MINUTES (config); admins' may not be loosened.
    admin_idle_minutes: int = 30
    member_idle_minutes: int = 8 * 60
    # Absolute lifetime from the sign-in, whatever the activity. A member's "remember me" lasts
    # ELEARN_REMEMBER_DAYS instead (idle or not); admins never get remember-me.
    admin_lifetime_hours: int = 12
    member_lifetime_hours: int = 7 * 24
    # Open sessions an admin may have at once: a new sign-in ends the oldest beyond this.
    admin_max_sessions: int = 2
    # "Last seen" is written at most this often (not on every request: a player's heartbeats must not
    # write a row each time); the idle timeout is therefore exact to within this many seconds.
    seen_every_s: int = 60


SESSIONS = SessionPolicy()
SESSION_END_REASONS.update({
    "idle": _l("长时间未操作"),
    "expired": _l("登录已到期"),
    "limit": _l("同时登录的设备过多"),
})


@dataclass(frozen=True)
class PasswordPolicy:
    """What a password must be (elearn.auth.passwords), on every path that sets one: the user's own change,
    an admin's reset, creating and importing members (generated passwords satisfy it too)."""

    min_length: int = 8
    # Character classes: lower-case, upper-case, digit, symbol; a password needs this many of the four.
    min_classes: int = 3
    # A new password may not be any of the last N (the current one included); older hashes are kept to check.
    history: int = 5
    # Days after which a password must be changed at the next sign-in before anything else; 0 is off (the
    # default). ELEARN_PASSWORD_MAX_AGE_DAYS (config) turns it on.
    max_age_days: int = 0
    # Length of the passwords the app generates (imports): 12 characters of every class, ~70 bits.
    generated_length: int = 12


PASSWORDS = PasswordPolicy()
AUDIT_ACTIONS.update({
    "auth.session_timeout": _l("登录会话超时结束"),
    "auth.password_expired": _l("密码已过期，须修改"),
})


@dataclass(frozen=True)
class TwoFactorPolicy:
    """Two-factor sign-in (elearn.auth.two_factor): who must have it, and the numbers of the TOTP step."""

    # Roles that may not sign in without a second factor (等保 2.0 level 3: administrators authenticate with
    # two factors); the others may enrol if they wish. ELEARN_TWO_FACTOR_ENFORCED=0 lifts it (test suites only).
    required_roles: frozenset[Role] = frozenset({Role.ORG_ADMIN, Role.SITE_ADMIN})
    # RFC 6238: 30-second steps, 6 digits; a code of the step before or after is accepted (clocks of phones drift).
    step_seconds: int = 30
    digits: int = 6
    valid_window: int = 1
    recovery_codes: int = 10
    # Password accepted, second factor not yet given: the half-signed-in state lasts this long, then the
    # password must be given again.
    pending_seconds: int = 300
    # Refused second-step attempts (Flask-Limiter notation) per address and per account being signed in to:
    # with three codes valid at a time, 30 guesses an hour find one in about 11,000 hours.
    limit_per_address: str = "30 per minute; 300 per hour"
    limit_per_account: str = "5 per minute; 30 per hour"
    issuer: str = "elearn"


TWO_FACTOR = TwoFactorPolicy()
AUDIT_ACTIONS.update({
    "auth.2fa.enrol": _l("启用两步验证"),
    "auth.2fa.disable": _l("关闭两步验证"),
    "auth.2fa.reset": _l("重置两步验证（设备丢失）"),
    "auth.2fa.recovery_used": _l("使用恢复码登录"),
    "auth.2fa.codes_regenerated": _l("重新生成恢复码"),
    "auth.2fa.failure": _l("登录失败（验证码错误）"),
})
SESSION_END_REASONS.update({"2fa_reset": _l("管理员重置了两步验证")})


@dataclass(frozen=True)
class PersonalDataPolicy:
    """Personal data at rest (elearn.security): how values are shown masked, and how a key rotation proceeds."""

    # Digits of a phone number left visible when masked: the carrier prefix and the last four (138****1234),
    # the form Chinese services print.
    phone_visible: tuple[int, int] = (3, 4)
    # Rows re-encrypted per transaction by `elearn security rotate-key`: a crash loses at most one batch of work
    # (every value stays readable: each is whole under the old key or the new one), and SQLite's writer lock is
    # held only briefly, so the site keeps working during a rotation.
    rotation_batch_rows: int = 500


PERSONAL_DATA = PersonalDataPolicy()
AUDIT_ACTIONS.update({
    "security.key_rotated": _l("更换个人信息加密密钥"),
    "security.key_retired": _l("停用旧的个人信息加密密钥"),
})


@dataclass(frozen=True)
class ApiPagingPolicy:
    """Lists of the JSON API (elearn.http.paging): a page is small enough for a phone on a slow network and
    for one query, and a client cannot ask a single request to read a whole province."""

    per_page_default: int = 50
    per_page_max: int = 200
    # Beyond this page a client should narrow the filter; deep OFFSETs cost the database the skipped rows.
    page_max: int = 10_000


API_PAGING = ApiPagingPolicy()
AUDIT_ACTIONS.update({"token.issue": _l("创建 API 令牌")})


@dataclass(frozen=True)
class SignInProviderPolicy:
    """Sign-in through the organisations' CAS and OpenID Connect providers (elearn.auth.sso)."""

    # Seconds a request to a provider (ticket validation, discovery, keys, token) may take: a provider that is
    # down answers the member with a message within this, not a hung page.
    timeout_s: float = 5.0
    # Seconds between leaving for the provider and coming back: a later return is refused (start again).
    pending_seconds: int = 600
    # Seconds a provider's discovery document and keys are reused before they are fetched again.
    metadata_seconds: int = 3600
    # Clock skew allowed when checking an ID token's times.
    leeway_s: int = 60


SIGN_IN_PROVIDERS = SignInProviderPolicy()
AUDIT_ACTIONS.update({
    "auth.sso.login": _l("统一身份认证确认身份"),
    "auth.sso.link": _l("关联统一身份认证账号"),
    "auth.sso.unlink": _l("解除统一身份认证账号关联"),
    "org.local_passwords": _l("设置本地密码登录"),
})


@dataclass(frozen=True)
class CatalogPolicy:
    """The member's course catalog (``/api/v1/catalog``, elearn.courses.series.catalog)."""

    # A course counts as new for this many days after it became available to the member (its series opened).
    new_days: int = 30
    # A catalog search looks at this many best search hits for the courses they belong to (the search box
    # pages through results; the catalog filters by them, so it needs a bounded set of course ids).
    search_max_hits: int = 300


CATALOG = CatalogPolicy()


# --- Password reset, e-mail and notifications (issues 19 and 20) ---


@dataclass(frozen=True)
class ResetPolicy:
    """Password reset (elearn.auth.reset): by an e-mailed link when SMTP is configured, else by an org admin's
    temporary password (changed at the first sign-in before anything else)."""

    # A link is good once, for this long; a later request or any password change voids it too.
    link_minutes: int = 30
    # Requests (Flask-Limiter notation) per address and per address typed: every request counts, as each may
    # send an e-mail to someone.
    limit_per_address: str = "10 per minute; 60 per hour"
    limit_per_email: str = "3 per 15 minutes; 10 per day"


RESET = ResetPolicy()


@dataclass(frozen=True)
class MailPolicy:
    """E-mail delivery through the outbox (elearn.notify): retries with back-off until a message is sent or
    given up."""

    # Attempts before a message is given up ("failed", shown with its last error); the waits between them grow
    # from retry_delay_s by retry_backoff each time (1, 2, 4, … minutes; about 4 hours in all).
    max_attempts: int = 8
    retry_delay_s: int = 60
    retry_backoff: float = 2.0
    # An attempt under way holds its message this long: a worker that died mid-send frees it for the sweep.
    claim_seconds: int = 300
    # Messages the periodic sweep sends per run (the rest wait for the next minute's run).
    sweep_batch: int = 100


MAIL = MailPolicy()
NOTIFICATIONS_PAGE_SIZE = 20
AUDIT_ACTIONS.update({
    "auth.reset.request": _l("申请通过邮件重置密码"),
    "auth.reset.done": _l("通过邮件链接重置密码"),
    "auth.password.temporary": _l("管理员设置临时密码"),
})


@dataclass(frozen=True)
class CertificatePolicy:
    """Verifiable certificates (elearn.ledger.certificates): what a verification code looks like and how often
    anyone may look one up."""

    # Random URL-safe characters of a verification code (16: 96 bits, never guessed; short enough for a QR code
    # a phone reads from paper).
    code_length: int = 16
    # Random digits of a serial number after its year and kind letter (2026C + 10 digits).
    serial_digits: int = 10
    # Look-ups of /verify/<code> and its API per address (Flask-Limiter notation): the pages are public.
    verify_limit_per_address: str = "30 per minute; 300 per hour"


CERTIFICATES = CertificatePolicy()


@dataclass(frozen=True)
class XapiPolicy:
    """Learning records sent to an LRS as xAPI statements (elearn.xapi.services)."""

    # Statements per POST: LRSs take a batch whole or not at all; a refused batch is retried one by one.
    batch_size: int = 50
    # Batches one flush sends at most (the job runs every minute; the rest waits for the next run).
    max_batches_per_flush: int = 40
    # Seconds a statement waits after its first unsuccessful attempt; doubled each time, at most backoff_max_s.
    backoff_base_s: int = 60
    backoff_max_s: int = 3600
    # Seconds a batch being sent is withheld from other workers (a worker that dies leaves it due after this).
    lease_s: int = 120
    # Shares of a lesson's duration whose crossing is a "progressed" statement (coarse: never per heartbeat).
    progress_milestones: tuple[float, ...] = (0.25, 0.5, 0.75)


XAPI = XapiPolicy()


@dataclass(frozen=True)
class HeartbeatPolicy:
    """Lesson heartbeats (elearn.study.heartbeat, static/js/player.js)."""

    # The player reports what it played every this many seconds while playing, and on pause, hide and end.
    report_every_s: int = 30
    # A token's member and "this member may watch this lesson" are trusted this long per web process: a revoked
    # token, a deactivated member, an unpublished course or a member moved out of its audience stops being
    # credited at most this long after the change.
    cache_s: float = 30.0
    # Entries per cache and process before it is emptied (memory bound; the next reports refill it).
    cache_entries: int = 100_000


HEARTBEAT = HeartbeatPolicy()


@dataclass(frozen=True)
class CommunityPolicy:
    """Bookmarks, notes, questions and ratings (elearn.community)."""

    # Characters of a note, a question, an answer or reply, a rating's comment, a report's reason.
    note_max_chars: int = 2000
    post_max_chars: int = 4000
    comment_max_chars: int = 500
    report_reason_max_chars: int = 200
    # Notes a member keeps at most (one lesson's or reading's notes are listed whole under it).
    notes_per_member: int = 5000
    # Posts (questions, answers, replies) and reports per member (Flask-Limiter notation): enough for a lively
    # class, too few to flood a lesson.
    post_limit_per_user: str = "10 per minute; 100 per day"
    report_limit_per_user: str = "20 per hour"
    # Questions, reports and notes per page of the moderation queue and "my notes".
    page_size: int = 50


COMMUNITY = CommunityPolicy()
AUDIT_ACTIONS.update({
    "community.post_hidden": _l("隐藏讨论帖"),
    "community.post_unhidden": _l("取消隐藏讨论帖"),
    "community.reports_dismissed": _l("驳回讨论帖的举报"),
})


@dataclass(frozen=True)
class MeetingKind:
    """One kind of organisational-life meeting: its label, whether (and as what) attending it earns 学时, and how
    many a branch usually holds a year (None: no cadence)."""

    label: object  # a lazy string
    credits: bool = False
    category: str = "political_theory"  # CONTENT_CATEGORIES code of the credit
    innovative_theory: bool = False
    per_year: int | None = None


def _meeting_kinds() -> dict[str, MeetingKind]:
    return {
        "assembly": MeetingKind(_l("支部党员大会"), per_year=4),
        "committee": MeetingKind(_l("支部委员会"), per_year=12),
        "group": MeetingKind(_l("党小组会"), per_year=4),
        "lecture": MeetingKind(_l("党课"), credits=True, innovative_theory=True, per_year=4),
        "theme_day": MeetingKind(_l("主题党日")),
        "life_meeting": MeetingKind(_l("组织生活会"), per_year=1),
        "review": MeetingKind(_l("民主评议党员"), per_year=1),
        "talk": MeetingKind(_l("谈心谈话")),
        "central_group": MeetingKind(_l("中心组学习"), credits=True, innovative_theory=True),
        "special_lecture": MeetingKind(_l("专题讲座")),
    }


@dataclass(frozen=True)
class MeetingPolicy:
    """Organisational-life meetings (elearn.branch.meetings): 三会一课, 主题党日 and the rest."""

    kinds: dict[str, MeetingKind] = field(default_factory=_meeting_kinds)
    # A crediting kind credits its duration at this many minutes per 学时 (as online study), at most this much.
    minutes_per_hour: int = 45
    max_credit_hours: float = 8.0
    # A meeting lasts at least a minute and at most a day.
    max_duration_h: int = 24
    title_max: int = 200
    place_max: int = 200
    agenda_max_chars: int = 20_000
    minutes_max_chars: int = 100_000
    reason_max: int = 300
    # An attachment: JPEG, PNG, PDF, DOCX or XLSX (checked by its content), at most this large; this many per meeting.
    attachment_max_bytes: int = 20 * 1024 * 1024
    attachments_per_meeting: int = 30
    # Members check in from this long before the start until this long after the end.
    checkin_opens_before_min: int = 30
    checkin_closes_after_min: int = 0
    # Meetings are entered for years from the cycle's start to next year.
    first_year: int = 2020
    upcoming_shown: int = 10


MEETINGS = MeetingPolicy()
CREDIT_KINDS["meeting"] = _l("组织生活")
AUDIT_ACTIONS.update({
    "meeting.create": _l("登记支部会议"),
    "meeting.update": _l("修改支部会议"),
    "meeting.cancel": _l("取消支部会议"),
    "meeting.attendance": _l("登记会议出勤"),
    "meeting.checkin": _l("扫码签到（支部会议）"),
    "meeting.held": _l("会议已召开"),
    "meeting.attachment": _l("上传会议附件"),
    "meeting.attachment_delete": _l("删除会议附件"),
})


# --- The evaluation report (中期/五年总结评估, issue 16 part 5) ---


@dataclass(frozen=True)
class EvaluationPolicy:
    """Bounds of the evaluation report (elearn.analytics.evaluation)."""

    # A period longer than the cycle and a year either side is a typing mistake, not an evaluation.
    max_period_days: int = 7 * 366
    # At-risk counts are listed for this many organisations (most at risk first); the rest are summed in one line.
    at_risk_orgs_listed: int = 30
    # Dates outside these years are typing mistakes (and 9999-12-31 has no next day to end a range with).
    first_year: int = 2000
    last_year: int = 2100


EVALUATION = EvaluationPolicy()


# --- Training-needs surveys (issue 16, part 4) ---


@dataclass(frozen=True)
class SurveyPolicy:
    """Limits of a needs survey (elearn.branch.surveys): big enough for any real questionnaire, small enough
    that a forged submission cannot fill the database."""

    max_questions: int = 50
    max_options: int = 20  # per choice question
    option_max_chars: int = 200
    question_max_chars: int = 500
    text_answer_max_chars: int = 2000  # a free-text answer
    default_open_days: int = 30  # the closing day proposed when publishing


SURVEY = SurveyPolicy()
AUDIT_ACTIONS.update({
    "survey.create": _l("创建需求调研"),
    "survey.update": _l("修改需求调研"),
    "survey.publish": _l("发布需求调研"),
    "survey.close": _l("结束需求调研"),
    "lecturer.status": _l("师资状态变更"),
    "lecturer.link": _l("关联讲师账号"),
    "training_plan.survey": _l("培训计划引用调研"),
})


@dataclass(frozen=True)
class CheckinPolicy:
    """Check-in by rotating QR code (elearn.branch.checkin) and political birthdays (elearn.branch.birthdays)."""

    # A host screen's code changes every this many seconds; the current and the previous step are accepted,
    # so a code is good for 30 to 60 s: long enough to scan, too short to pass on to someone at home.
    step_s: int = 30
    # Characters of the typed short form (alphabet without 0/O/1/I: 32 symbols, 30 bits).
    short_code_length: int = 6
    # A group session opens for check-in this long before its start and closes this long after its lesson ends.
    opens_before_min: int = 15
    closes_after_min: int = 30
    # Check-in attempts per member and per address (Flask-Limiter notation), counting only refused ones: a
    # 6-character code cannot be guessed within these.
    limit_per_user: str = "10 per minute; 40 per hour"
    limit_per_address: str = "30 per minute; 200 per hour"
    # A member who scanned while signed out and signs in first keeps the moment of the scan this long.
    signin_grace_s: int = 300
    # The oath of joining the party (入党誓词), shown on the political birthday page.
    oath: str = ("我志愿加入中国共产党，拥护党的纲领，遵守党的章程，履行党员义务，执行党的决定，严守党的纪律，"
                 "保守党的秘密，对党忠诚，积极工作，为共产主义奋斗终身，随时准备为党和人民牺牲一切，永不叛党。")


CHECKIN = CheckinPolicy()
AUDIT_ACTIONS.update({
    "group.checkin": _l("扫码签到（集中培训）"),
    "branch.oath_renewed": _l("重温入党誓词"),
    "meeting.checkin_evidence": _l("扫码签到的设备与地址（支部会议）"),
})


@dataclass(frozen=True)
class NotifyPolicy:
    """Notifications that reach members (elearn.notify): reminders, fan-outs, the daily digest, announcements."""

    # Members told per transaction of a fan-out job (a series, an announcement, a reminder); the job enqueues
    # itself again for the next batch.
    fanout_batch: int = 500
    # A required series not completed is reminded this many days before its due date (once per series).
    due_reminder_days: int = 7
    # The daily digest goes out from this hour of the site's day on (the hourly job sends each member one a day).
    digest_hour: int = 20
    # Notifications listed in one digest e-mail at most (the rest: "and N more" with the centre's link).
    digest_max_items: int = 50
    # Announcements: the title's and the body's (Markdown) length limits.
    announcement_title_max: int = 200
    announcement_body_max: int = 20_000


NOTIFY = NotifyPolicy()
AUDIT_ACTIONS.update({"announcement.publish": _l("发布公告"), "announcement.edit": _l("编辑公告"),
                      "announcement.withdraw": _l("撤回公告")})


@dataclass(frozen=True)
class BranchShowcasePolicy:
    """Party lectures (党课开讲啦, 优秀党课) and model stories (学习身边榜样): elearn.branch.lectures, .stories."""

    # The content category a recorded 党课's course gets unless the secretary chooses another.
    lecture_category: str = "political_theory"
    title_max: int = 200
    speaker_max: int = 100
    # A showcase names its year: from this one up to next year.
    first_showcase_year: int = 2024
    story_body_max_chars: int = 50_000
    # A story's photo: JPEG or PNG (checked by its first bytes), at most this large.
    story_photo_max_bytes: int = 3 * 1024 * 1024
    stories_page_size: int = 20


BRANCH_SHOWCASE = BranchShowcasePolicy()
AUDIT_ACTIONS.update({
    "lecture.create": _l("登记党课"),
    "lecture.nominate": _l("推荐党课"),
    "lecture.showcase": _l("评为优秀党课"),
    "lecture.unshowcase": _l("撤销优秀党课"),
    "story.publish": _l("发布身边榜样"),
    "story.unpublish": _l("撤回身边榜样"),
})


# --- The catalog page and the member's home (issue 20, part 1) ---


@dataclass(frozen=True)
class LearnHomePolicy:
    """What the catalog page (``/learn/``) and the member's home show at once: small enough for one phone
    screen and a few queries (elearn.courses.learn_views, elearn.site.views)."""

    catalog_per_page: int = 12  # courses on a page of /learn/ and /learn/mine
    # The catalog's hours filter: (key, minimum, maximum or None) in 学时.
    hours_buckets: tuple[tuple[str, float, float | None], ...] = (("lt1", 0.0, 1.0), ("1to3", 1.0, 3.0),
                                                                   ("ge3", 3.0, None))
    recent_credits: int = 5  # the last ledger entries on the home page
    recommendations: int = 3  # courses (or trainings) recommended per reason


LEARN_HOME = LearnHomePolicy()


# --- Lecturer tools: question editing and import, course learner statistics (issue 20, lecturer part) ---


@dataclass(frozen=True)
class QuestionBankPolicy:
    """Question editing and the XLSX question import (elearn.quiz.question_import). A question has at most
    ``max_options`` options (quiz.services.MAX_OPTIONS); the import template has columns 选项A…选项F."""

    text_max_chars: int = 2000
    option_max_chars: int = 500
    explanation_max_chars: int = 2000
    import_max_rows: int = 300
    import_max_bytes: int = 1024 * 1024
    # Measured before openpyxl parses the workbook (as the member import does, policy.IMPORT): 300 rows of the
    # template's ten columns hold ~10,000 XML tags.
    xlsx_max_unpacked_bytes: int = 16 * 1024 * 1024
    xlsx_max_tags: int = 60_000


QUESTION_BANK = QuestionBankPolicy()
AUDIT_ACTIONS.update({"quiz.question.import": _l("导入题目")})


# --- Weak networks and offline: static assets, the PWA, offline readings (issue 20) ---


@dataclass(frozen=True)
class StaticAssetsPolicy:
    """How static files are cached and compressed (elearn.http.static_assets) and what the service worker keeps
    (elearn.site.pwa_views). deploy/nginx/elearn.conf serves /static/ with the same lifetimes."""

    # A URL carrying the file's content hash (?v=…) never changes content: cached for a year, immutable.
    versioned_max_age_s: int = 31_536_000
    # Without it (an old page, a hand-written link) a short lifetime, so a new release reaches everyone soon.
    unversioned_max_age_s: int = 3600
    # Characters of the SHA-256 of the content in ?v=.
    version_chars: int = 10
    # Text assets sent gzip-compressed to clients that accept it (compressed once per file per process), up to
    # this size (hls.min.js is 624 KB).
    compressible_suffixes: tuple[str, ...] = (".js", ".css", ".svg", ".webmanifest", ".json", ".txt", ".map")
    compress_max_bytes: int = 4 * 1024 * 1024
    gzip_level: int = 9
    # The application shell the service worker stores when it is installed (static paths), beside the offline page.
    shell: tuple[str, ...] = ("css/site.css", "css/search.css", "js/nav.js", "js/offline.js", "js/reader.js",
                              "favicon.svg", "icons/icon-192.png")
    theme_colour: str = "#b71c1c"
    background_colour: str = "#ffffff"


STATIC_ASSETS = StaticAssetsPolicy()


# --- Study points (学习积分) and the branch ranking (issue 20) ---


@dataclass(frozen=True)
class PointsPolicy:
    """Study points (elearn.points): earned only from what the ledger really credited a member for their own
    study, once per credited thing, and never counted as 学时. The daily cap keeps a script from farming points."""

    lesson: int = 5  # a lesson credited
    course: int = 10  # a course credited as a whole (declared hours)
    quiz: int = 10  # a quiz passed (the ledger credits the first pass only)
    reading: int = 5  # a reading credited
    daily_study: int = 2  # the first credit of a site day
    streak_days: int = 7  # every this many consecutive study days …
    streak_bonus: int = 10  # … earn this bonus
    daily_cap: int = 40  # points earned on one site day at most (the daily and streak points come first)
    recent_awards: int = 20  # awards listed on the member's page

    def for_source(self, source_kind: str) -> int | None:
        """Points for a ledger credit of ``source_kind``; None for kinds that earn none (trainings, meetings)."""
        return {"lesson": self.lesson, "course": self.course, "quiz": self.quiz,
                "reading": self.reading}.get(source_kind)


POINTS = PointsPolicy()
AUDIT_ACTIONS.update({"points.ranking": _l("设置支部积分排行")})
