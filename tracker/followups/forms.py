"""Forms for urging, extension requests and their decisions (Chinese labels)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from tracker.reports.limits import normalise_optional

MAX_TEXT = 1000
# Line breaks and trailing white space as every other way in stores them.
TEXT_FILTERS = [normalise_optional]


class UrgeForm(FlaskForm):
    """催办: an optional message to the department's liaisons."""

    message = TextAreaField(
        "催办内容",
        filters=TEXT_FILTERS,
        validators=[Optional(), Length(max=MAX_TEXT, message=f"催办内容不能超过 {MAX_TEXT} 字")],
        description="可留空，默认内容为“请尽快报送本期进展情况。”",
    )
    submit = SubmitField("催办")


class ExtensionRequestForm(FlaskForm):
    """延期申请: a later due date and the reason for it."""

    requested_due_date = DateField(
        "申请截止日期",
        validators=[DataRequired(message="请选择申请的截止日期")],
        description="须为工作日，且晚于当前截止日期",
    )
    reason = TextAreaField(
        "延期理由",
        filters=TEXT_FILTERS,
        validators=[
            DataRequired(message="请填写延期理由"),
            Length(max=MAX_TEXT, message=f"延期理由不能超过 {MAX_TEXT} 字"),
        ],
    )
    submit = SubmitField("提交延期申请")


class ApproveExtensionForm(FlaskForm):
    """Approve, optionally with a comment."""

    comment = TextAreaField(
        "审批意见",
        filters=TEXT_FILTERS,
        validators=[Optional(), Length(max=MAX_TEXT, message=f"审批意见不能超过 {MAX_TEXT} 字")],
    )
    submit = SubmitField("批准")


class RejectExtensionForm(FlaskForm):
    """Reject, always with a comment."""

    comment = TextAreaField(
        "驳回意见",
        filters=TEXT_FILTERS,
        validators=[
            DataRequired(message="驳回须填写意见"),
            Length(max=MAX_TEXT, message=f"驳回意见不能超过 {MAX_TEXT} 字"),
        ],
    )
    submit = SubmitField("驳回")
