"""The hints beside the report form's controls (自评状态, 关键数据, 佐证材料).

Every number a hint states is read here from the settings (``TRACKER_EVIDENCE_MAX_BYTES``,
``MAX_CONTENT_LENGTH``) or from the modules that enforce it (:mod:`tracker.reports.limits`,
:mod:`tracker.reports.evidence`), never written into a template, so that a hint cannot drift
from the rule it describes. The help pages show the same words.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from tracker.reports import evidence
from tracker.reports.limits import MAX_FIGURE_NAME, MAX_FIGURE_UNIT, MAX_FIGURES, MAX_NARRATIVE
from tracker.reports.models import ProgressStatus

# What each self-rating means, in the words users asked for.
STATUS_MEANINGS: tuple[tuple[ProgressStatus, str], ...] = (
    (ProgressStatus.NOT_STARTED, "本期尚未开展实质性工作"),
    (ProgressStatus.IN_PROGRESS, "已开展工作、尚未全部完成，多数事项选此项"),
    (ProgressStatus.COMPLETED, "本项任务已全部完成，不再需要推进"),
    (ProgressStatus.ONGOING, "已建立长效机制、需要长期坚持的工作，按常态持续开展"),
)

STATUS_HINT = (
    "按本季度末的实际进展选择："
    + "；".join(f"{status.label}——{meaning}" for status, meaning in STATUS_MEANINGS)
    + "。督办协调员审核时核定状态，与自评不一致时会标出。"
)


def size_text(size: int) -> str:
    """A byte count as users read it: ``10 MB``, ``1.5 MB``, ``512 KB``."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
    return f"{max(size // 1024, 1)} KB"


@dataclass(frozen=True)
class EvidenceRules:
    """What an evidence upload may be: the limits the upload itself enforces."""

    max_bytes: int  # the smaller of the evidence limit and the request limit
    max_files: int
    kinds: tuple[str, ...]  # "PDF", "Word", …, once each, in the order of evidence.KINDS
    extensions: tuple[str, ...]  # ".pdf", ".docx", …

    @property
    def max_size(self) -> str:
        return size_text(self.max_bytes)

    @property
    def kinds_text(self) -> str:
        """``PDF、Word、Excel、PNG、JPEG（.pdf .docx …）``."""
        return "、".join(self.kinds) + "（" + " ".join(self.extensions) + "）"


def evidence_rules() -> EvidenceRules:
    """The evidence limits in force in this application (read from its configuration)."""
    limit = evidence.max_bytes()
    request_limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if request_limit:
        limit = min(limit, int(request_limit))
    return EvidenceRules(
        max_bytes=limit,
        max_files=evidence.MAX_FILES_PER_REPORT,
        kinds=tuple(dict.fromkeys(label.split()[0] for label, _ in evidence.KINDS.values())),
        extensions=tuple(e for names in evidence.EXTENSIONS.values() for e in sorted(names)),
    )


@dataclass(frozen=True)
class ReportHints:
    """The hint texts of the report pages, with the numbers in force."""

    status: str
    figures: str
    evidence: str
    narrative: str


def report_hints() -> ReportHints:
    """The hints, built from the current configuration."""
    rules = evidence_rules()
    return ReportHints(
        status=STATUS_HINT,
        figures=(
            f"选填，最多 {MAX_FIGURES} 项，每行一个指标：指标名称不超过 {MAX_FIGURE_NAME} 字；"
            "数值只填数字，可带千分位逗号和小数（如 1200、1,200.5），不要带单位；"
            f"单位另填（如 件、人、万元，不超过 {MAX_FIGURE_UNIT} 字）。整行留空即不填。"
        ),
        evidence=(
            f"可上传 {rules.kinds_text}，每个文件不超过 {rules.max_size}，"
            f"每份报告最多 {rules.max_files} 个；系统按文件内容识别类型，扩展名须与内容一致。"
            "报送后不能再添加或删除附件（被退回后可以）。"
        ),
        narrative=f"各栏文字每栏不超过 {MAX_NARRATIVE} 字。",
    )
