"""Every string the council's public pages show, in zh-CN (the default) and English.

The courier pages' catalogue (web/messages.py) holds the site's chrome; this one holds
the council's words, so the council can grow without crowding the locator's. Templates
get the strings as `ct`, the words for the council's codes (statuses, bodies, ratings,
story steps) as `cv`, and council.js gets the strings it shows as JSON. Category names
come from council.CATEGORIES and subdistricts from the vocabulary, not from here.

Staff pages stay Chinese: they are written zh-CN with English beside it.
"""

from __future__ import annotations

from collections.abc import Mapping

from stationfinder.web.messages import DEFAULT_LANG

MESSAGES: Mapping[str, Mapping[str, str]] = {
    "zh": {
        "council_name": "小哥议事厅",
        "nav_board": "议事厅",
        "nav_new": "我要反映",
        "nav_mine": "我的问题",
        "board_title": "问题看板",
        "board_intro": (
            "小哥们反映的问题，按“我也遇到”的人数和时间排列。"
            "工会和街道会受理、上会讨论，并在这里回复。"
        ),
        "filter_category": "分类",
        "filter_street": "街道",
        "filter_status": "状态",
        "all": "全部",
        "still_open": "未办结",
        "filter": "筛选",
        "backing": "{n} 人遇到",
        "you_too": "（你也遇到）",
        "board_empty": "还没有符合条件的问题。",
        "new_title": "我要反映问题",
        "new_intro": (
            "不用登录。提交后会得到一个工单号，凭它查看进展。"
            "请不要在标题和描述里写电话、身份证号，写了也会被遮挡。"
        ),
        "check_marked": "请检查下面标红的地方。",
        "similar_title": "这些问题和你的很像",
        "similar_help": "如果是同一件事，点“我也遇到”支持它，人数越多越容易上会。",
        "about_metres": "约 {n} 米",
        "back_instead": "我也遇到，支持这个",
        "send_anyway": "不是同一件事？再点一次“提交”就会作为新问题提交。",
        "field_title": "标题",
        "title_placeholder": "如：双节期间派件压力大",
        "field_category": "分类",
        "choose": "请选择",
        "field_description": "具体情况",
        "place_legend": "地点（选填）",
        "use_my_position": "用我现在的位置",
        "map_help": "或在地图上点一下，放一个图钉；再点别处可以移动它。",
        "map_label": "选择地点的地图",
        "clear_place": "清除位置",
        "locating": "正在定位…",
        "located": "已定位",
        "locate_failed": "无法定位，请在地图上选点、选择站点或填写地点说明。",
        "pinned": "已在地图上选点",
        "place_set": "位置已选定",
        "field_station": "或选择一个小哥之家",
        "no_station": "不选",
        "field_place_label": "地点说明",
        "place_label_placeholder": "如：金沙湖地铁站C口",
        "field_photo": "照片（选填）",
        "photo_help": "最大 {n} MB；上传前会去掉照片里的位置信息。",
        "field_phone": "回访电话（选填）",
        "phone_help": "只有工作人员能看到，而且会遮挡中间几位；不会公开。",
        "send": "提交",
        "raised_before": "已提交。你的工单号是",
        "raised_after": "，可以在“我的问题”里查看进展。",
        "merged_note": "{number} 和这个问题是同一件事，已合并到这里。",
        "backed_done": "谢谢！已记下你也遇到。",
        "already_backed": "你已经支持过这个问题了。",
        "received": "已收到。",
        "work_order": "工单号",
        "hidden_title": "此内容已隐藏",
        "hidden_flagged": "多位小哥举报了这条内容，工作人员核实前暂时隐藏。",
        "hidden_reason": "原因：{reason}",
        "photo_alt": "问题照片",
        "place_map": "问题地点",
        "responsible": "责任单位：{name}",
        "status_reason": "{status}说明：{reason}",
        "me_too": "我也遇到",
        "you_backed": "你已支持",
        "meetings": "议事会",
        "decision": "决定：",
        "owner": "负责：{owner}",
        "due": "期限 {date}",
        "follow_up": "落实：{state}",
        "awaiting_discussion": "已列入议程，等待讨论。",
        "story": "进展",
        "rate_title": "对处理结果满意吗？",
        "comment_optional": "说明（选填）",
        "send_rating": "提交评价",
        "add_title": "补充情况",
        "add_button": "补充",
        "flag_summary": "举报不当内容",
        "flag_reason": "原因（选填）",
        "flag_button": "举报",
        "mine_title": "我的问题",
        "mine_intro": (
            "这台手机提过和支持过的问题。不用登录：手机里存着一把只有你有的钥匙；"
            "换手机或清除浏览器数据后就看不到了，请记下工单号。"
        ),
        "mine_noscript": "没有开启脚本时，只能看到这个浏览器保存的问题。",
        "show_mine": "显示我的问题",
        "mine_raised": "我提出的",
        "mine_backed": "我也遇到的",
        "hidden_short": "（已隐藏）",
        "council_decision": "议事会决定：{text}",
        "council_decision_owner": "议事会决定：{text}（负责：{owner}）",
        "note": "说明：{text}",
        "none_yet": "还没有。",
        "record_title": "{title} 会议记录",
        "record_heading": "小哥议事厅 会议记录",
        "add_to_calendar": "加入日历 (.ics)",
        "print": "打印",
        "meeting": "会议",
        "time": "时间",
        "minutes_long": "（{n} 分钟）",
        "place": "地点",
        "organisations": "参加单位",
        "sign_in": "签到",
        "present": "{organisation} {n} 人",
        "present_total": "（共 {n} 人）",
        "list_sep": "、",
        "colon": "：",
        "paren": "（{text}）",
        "clause_sep": "；",
        "issues_involved": "涉及问题：",
        "minutes": "纪要",
        "votes": "表决：赞成 {yes}，反对 {no}，弃权 {abstain}",
        "due_on": "期限：{date}",
        "no_agenda": "议程还没有确定。",
        "signature": "记录人：________　　审核：________",
        "error_form": "提交没有成功，请检查后再试。",
        "error_title": "请填写标题，最多 {title_max} 字。",
        "error_description": "请填写具体情况，最多 {description_max} 字。",
        "error_category": "请从列表中选择分类。",
        "error_place_outside": "这个地点不在钱塘区。请重新选点、选择小哥之家，或只填写地点说明。",
        "error_place_invalid": "位置无效，请重新定位或在地图上选点。",
        "error_place_label": "地点说明最多 {place_label_max} 字。",
        "error_station_id": "没有这个小哥之家，请重新选择。",
        "error_phone": "电话号码不正确。",
        "error_photo": (
            "这张照片用不了，请换一张 JPEG、PNG 或 WebP 照片（最大 {photo_max_mb} MB）。"
        ),
        "error_issue_hidden": "这个问题已隐藏。",
        "error_issue_closed": "这个问题已经办结，不能再支持。",
        "error_not_yours": "只有提出这个问题的手机才能这样做。",
        "error_device_key": "这台手机的钥匙无效，请刷新页面后再试。",
        "error_rating": "请选择满意、基本满意或不满意。",
        "error_rating_not_resolved": "问题解决后才能评价。",
        "error_text": "请填写补充内容，最多 {addition_max} 字。",
        "error_reason": "原因最多 {flag_reason_max} 字。",
        "error_comment": "说明最多 {addition_max} 字。",
        "rate_limited_form": "你提交得太频繁了，请过一会儿再试。你填写的内容还在下面。",
        "rate_limited": "操作太频繁了，请过一会儿再试。",
    },
    "en": {
        "council_name": "Couriers' Council",
        "nav_board": "Council",
        "nav_new": "Raise an issue",
        "nav_mine": "My issues",
        "board_title": "Issue board",
        "board_intro": (
            "Issues couriers have raised, the most backed (“Me too”) and newest first. "
            "The union and the subdistrict offices take them up, discuss them at council "
            "meetings and answer here."
        ),
        "filter_category": "Category",
        "filter_street": "Subdistrict",
        "filter_status": "Status",
        "all": "All",
        "still_open": "Still open",
        "filter": "Filter",
        "backing": "Affected: {n}",
        "you_too": "(you too)",
        "board_empty": "No issues match yet.",
        "new_title": "Raise an issue",
        "new_intro": (
            "No account needed. You get a work-order number to follow its progress. "
            "Please do not write phone or ID numbers in the title or description: they "
            "would be masked anyway."
        ),
        "check_marked": "Please check the fields marked in red below.",
        "similar_title": "These issues look like yours",
        "similar_help": (
            "If it is the same thing, tap “Me too” to back it: the more couriers back an "
            "issue, the sooner it reaches a council meeting."
        ),
        "about_metres": "about {n} m",
        "back_instead": "Me too: back this one",
        "send_anyway": "Not the same thing? Tap “Send” again to send yours as a new issue.",
        "field_title": "Title",
        "title_placeholder": "e.g. Too many parcels over the holidays",
        "field_category": "Category",
        "choose": "Choose",
        "field_description": "What happened",
        "place_legend": "Place (optional)",
        "use_my_position": "Use my position",
        "map_help": "Or tap the map to drop a pin; tap elsewhere to move it.",
        "map_label": "Map to pick the place",
        "clear_place": "Clear the position",
        "locating": "Finding your position…",
        "located": "Position found",
        "locate_failed": "No position: pick it on the map, choose a station or describe the place.",
        "pinned": "Pin dropped on the map",
        "place_set": "Position set",
        "field_station": "Or choose a rest station",
        "no_station": "None",
        "field_place_label": "Describe the place",
        "place_label_placeholder": "e.g. Jinshahu metro station, exit C",
        "field_photo": "Photo (optional)",
        "photo_help": "At most {n} MB; location data is removed from the photo.",
        "field_phone": "Phone for a call back (optional)",
        "phone_help": "Only staff see it, with the middle digits hidden; it is never public.",
        "send": "Send",
        "raised_before": "Sent. Your work-order number is",
        "raised_after": "; follow its progress under “My issues”.",
        "merged_note": "{number} was the same issue and has been merged into this one.",
        "backed_done": "Thanks! Noted that you have this problem too.",
        "already_backed": "You have already backed this issue.",
        "received": "Received.",
        "work_order": "Work order",
        "hidden_title": "This content is hidden",
        "hidden_flagged": (
            "Several couriers reported this content; it is hidden until staff have checked it."
        ),
        "hidden_reason": "Reason: {reason}",
        "photo_alt": "Photo of the issue",
        "place_map": "Where the issue is",
        "responsible": "Responsible: {name}",
        "status_reason": "{status}: {reason}",
        "me_too": "Me too",
        "you_backed": "You backed this",
        "meetings": "Council meetings",
        "decision": "Decision: ",
        "owner": "Owner: {owner}",
        "due": "due {date}",
        "follow_up": "Progress: {state}",
        "awaiting_discussion": "On the agenda, waiting to be discussed.",
        "story": "Progress",
        "rate_title": "Are you satisfied with the outcome?",
        "comment_optional": "Comment (optional)",
        "send_rating": "Send rating",
        "add_title": "Add more",
        "add_button": "Add",
        "flag_summary": "Report abusive content",
        "flag_reason": "Reason (optional)",
        "flag_button": "Report",
        "mine_title": "My issues",
        "mine_intro": (
            "Issues this phone raised or backed. No account: the phone keeps a key only you "
            "have; after changing phones or clearing the browser's data they are gone from "
            "here, so note your work-order numbers."
        ),
        "mine_noscript": "Without scripts, only the issues this browser remembers are shown.",
        "show_mine": "Show my issues",
        "mine_raised": "Raised by me",
        "mine_backed": "Backed by me",
        "hidden_short": "(hidden)",
        "council_decision": "Council decision: {text}",
        "council_decision_owner": "Council decision: {text} (owner: {owner})",
        "note": "Note: {text}",
        "none_yet": "None yet.",
        "record_title": "{title}: meeting record",
        "record_heading": "Couriers' Council: meeting record",
        "add_to_calendar": "Add to calendar (.ics)",
        "print": "Print",
        "meeting": "Meeting",
        "time": "Time",
        "minutes_long": "({n} min)",
        "place": "Place",
        "organisations": "Organisations",
        "sign_in": "Present",
        "present": "{organisation}: {n}",
        "present_total": "(total {n})",
        "list_sep": ", ",
        "colon": ": ",
        "paren": " ({text})",
        "clause_sep": "; ",
        "issues_involved": "Issues: ",
        "minutes": "Minutes",
        "votes": "Vote: {yes} for, {no} against, {abstain} abstaining",
        "due_on": "due {date}",
        "no_agenda": "The agenda is not set yet.",
        "signature": "Recorded by: ________    Checked by: ________",
        "error_form": "Not sent; please check and try again.",
        "error_title": "Give a title of at most {title_max} characters.",
        "error_description": "Describe what happened in at most {description_max} characters.",
        "error_category": "Choose a category from the list.",
        "error_place_outside": (
            "That place is outside Qiantang district. Pick it again, choose a station or "
            "just describe the place."
        ),
        "error_place_invalid": "The position is not valid; locate again or pick it on the map.",
        "error_place_label": "Describe the place in at most {place_label_max} characters.",
        "error_station_id": "No such station; please choose again.",
        "error_phone": "The phone number is not valid.",
        "error_photo": (
            "This photo cannot be used: choose a JPEG, PNG or WebP photo of at most "
            "{photo_max_mb} MB."
        ),
        "error_issue_hidden": "This issue is hidden.",
        "error_issue_closed": "This issue is closed and cannot be backed.",
        "error_not_yours": "Only the phone that raised this issue can do this.",
        "error_device_key": "This phone's key is not valid; reload the page and try again.",
        "error_rating": "Choose satisfied, mostly satisfied or unsatisfied.",
        "error_rating_not_resolved": "An issue can be rated once it is resolved.",
        "error_text": "Write what to add, in at most {addition_max} characters.",
        "error_reason": "Give a reason of at most {flag_reason_max} characters.",
        "error_comment": "Write a comment of at most {addition_max} characters.",
        "rate_limited_form": (
            "You have sent too many times; please try again later. What you wrote is still below."
        ),
        "rate_limited": "Too many tries; please wait a while and try again.",
    },
}

LABELS: Mapping[str, Mapping[str, Mapping[str, str]]] = {
    "zh": {
        "status": {
            "new": "待受理",
            "accepted": "已受理",
            "on_agenda": "已列入议程",
            "discussed": "已上会讨论",
            "resolved": "已解决",
            "declined": "不予处理",
            "merged": "已合并",
        },
        "responsible": {
            "union": "区总工会",
            "street_office": "街道办事处",
            "delivery_firm": "快递企业",
            "city_management": "城管部门",
        },
        "rating": {"satisfied": "满意", "mostly_satisfied": "基本满意", "unsatisfied": "不满意"},
        "follow_up": {
            "open": "未开始",
            "in_progress": "进行中",
            "done": "已完成",
            "dropped": "已取消",
        },
        "event": {
            "raised": "提出问题",
            "status": "状态变更",
            "reply": "工作人员回复",
            "note": "内部备注",
            "assigned": "责任单位",
            "merged": "已合并到",
            "merged_in": "合并了重复问题",
            "hidden": "已隐藏",
            "restored": "已恢复显示",
            "flag_hidden": "多人举报，暂时隐藏",
            "addition": "提出人补充",
            "rated": "提出人评价",
            "reopened": "提出人不满意，重新受理",
            "agenda": "列入议事会议程",
            "decision": "议事会决定",
            "follow_up": "决定落实情况",
            "phone_shown": "查看了回访电话",
        },
    },
    "en": {
        "status": {
            "new": "Awaiting review",
            "accepted": "Accepted",
            "on_agenda": "On a meeting's agenda",
            "discussed": "Discussed at a meeting",
            "resolved": "Resolved",
            "declined": "Declined",
            "merged": "Merged",
        },
        "responsible": {
            "union": "District trade union",
            "street_office": "Subdistrict office",
            "delivery_firm": "Delivery company",
            "city_management": "City management",
        },
        "rating": {
            "satisfied": "Satisfied",
            "mostly_satisfied": "Mostly satisfied",
            "unsatisfied": "Unsatisfied",
        },
        "follow_up": {
            "open": "Not started",
            "in_progress": "In progress",
            "done": "Done",
            "dropped": "Dropped",
        },
        "event": {
            "raised": "Issue raised",
            "status": "Status changed",
            "reply": "Staff reply",
            "note": "Internal note",
            "assigned": "Responsible",
            "merged": "Merged into",
            "merged_in": "A duplicate was merged in",
            "hidden": "Hidden",
            "restored": "Shown again",
            "flag_hidden": "Reported by several couriers; hidden for now",
            "addition": "Added by the courier who raised it",
            "rated": "Rated by the courier who raised it",
            "reopened": "The courier was not satisfied; reopened",
            "agenda": "Put on a council meeting's agenda",
            "decision": "Council decision",
            "follow_up": "Progress on the decision",
            "phone_shown": "Call-back phone viewed",
        },
    },
}

# Which catalogue message explains a refused step: (field, words in the council modules'
# message, key). The first match wins; a field without a rule uses `error_<field>`, and
# anything else the generic `error_form`, so a reworded domain message still reads well.
ERROR_RULES: tuple[tuple[str, str, str], ...] = (
    ("place", "outside", "error_place_outside"),
    ("place", "longer", "error_place_label"),
    ("place", "", "error_place_invalid"),
    ("issue", "closed", "error_issue_closed"),
    ("issue", "", "error_issue_hidden"),
    ("device_key", "only the courier", "error_not_yours"),
    ("rating", "resolved", "error_rating_not_resolved"),
)


def catalogue(lang: str) -> Mapping[str, str]:
    return MESSAGES[lang if lang in MESSAGES else DEFAULT_LANG]


def labels(lang: str) -> Mapping[str, Mapping[str, str]]:
    return LABELS[lang if lang in LABELS else DEFAULT_LANG]


def error_text(lang: str, field: str | None, message: str, **values: object) -> str:
    """The catalogue's words for a refused step (a CouncilError's field and message),
    with limits such as `title_max` filled in from `values`."""
    words = catalogue(lang)
    key = next(
        (k for f, part, k in ERROR_RULES if f == field and part in message),
        f"error_{field}",
    )
    text = words.get(key, words["error_form"])
    try:
        return text.format(**values)
    except KeyError:  # a value the caller did not pass: the words without the number
        return words["error_form"]


# What council.js shows (it gets them as JSON in a data- attribute).
SCRIPT_KEYS = ("locating", "located", "locate_failed", "pinned", "place_set", "map_label")


def script_text(lang: str) -> dict[str, str]:
    words = catalogue(lang)
    return {key: words[key] for key in SCRIPT_KEYS}
