"""The console's words: Vietnamese first, English one click away."""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("vi", "en")

TEXT: dict[str, tuple[str, str]] = {
    "console": ("Bảng điều hành", "Operations console"),
    "login": ("Đăng nhập", "Log in"),
    "logout": ("Đăng xuất", "Log out"),
    "name": ("Tên đăng nhập", "User name"),
    "password": ("Mật khẩu", "Password"),
    "wrong_login": ("Sai tên đăng nhập hoặc mật khẩu.", "Wrong user name or password."),
    "throttled": (
        "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút.",
        "Too many failed logins. Please try again in {minutes} min.",
    ),
    "forbidden": ("Bạn không có quyền xem trang này.", "You may not open this page."),
    "csrf": (
        "Biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng tải lại trang và thử lại.",
        "The form has expired or is not valid. Please reload the page and try again.",
    ),
    "not_found": ("Không tìm thấy.", "Not found."),
    "back": ("Quay lại", "Back"),
    "monitor": ("Theo dõi hàng chờ", "Live monitor"),
    "stats": ("Thống kê", "Statistics"),
    "fleet": ("Thiết bị", "Fleet health"),
    "audit": ("Nhật ký thao tác", "Audit log"),
    "when": ("Thời điểm", "When"),
    "who": ("Người thực hiện", "Who"),
    "what": ("Thao tác", "Action"),
    "target": ("Đối tượng", "Target"),
    "detail": ("Chi tiết", "Detail"),
    "address": ("Địa chỉ máy", "Address"),
    "role_admin": ("Quản trị", "Administrator"),
    "role_supervisor": ("Điều dưỡng trưởng / giám sát", "Supervisor"),
    "role_it": ("Công nghệ thông tin", "IT"),
    "department": ("Khoa", "Department"),
    "waiting": ("Đang chờ", "Waiting"),
    "called": ("Đã gọi", "Called"),
    "served": ("Đã khám", "Served"),
    "absent": ("Vắng mặt", "Absent"),
    "cancelled": ("Đã huỷ", "Cancelled"),
    "issued": ("Đã cấp số", "Issued"),
    "longest_wait": ("Chờ lâu nhất", "Longest wait"),
    "avg_wait": ("Chờ TB hôm nay", "Avg wait today"),
    "rooms_active": ("Phòng đang gọi", "Rooms active"),
    "minutes": ("phút", "min"),
    "paused": ("Tạm dừng", "Paused"),
    "paused_by_console": ("Tạm dừng trên mọi ki-ốt", "Paused on every kiosk"),
    "paused_at_kiosk": ("Tạm dừng tại ki-ốt", "Paused at kiosk"),
    "pause": ("Tạm dừng cấp số", "Pause issuing"),
    "resume": ("Tiếp tục cấp số", "Resume issuing"),
    "pause_reason": ("Lý do (hiện trên ki-ốt)", "Reason (shown on kiosks)"),
    "open": ("Mở", "Open"),
    "queue_of": ("Hàng chờ khoa", "Queue of"),
    "code": ("Số", "Number"),
    "priority": ("Ưu tiên", "Priority"),
    "waited": ("Đã chờ", "Waited"),
    "room": ("Phòng", "Room"),
    "actions": ("Thao tác", "Actions"),
    "cancel": ("Huỷ số", "Cancel"),
    "transfer": ("Chuyển khoa", "Transfer"),
    "requeue": ("Xếp lại hàng", "Requeue"),
    "nobody_waiting": ("Không có ai đang chờ.", "Nobody is waiting."),
    "live": ("Cập nhật trực tiếp", "Live"),
    "offline": ("Mất kết nối — đang thử lại…", "Connection lost — retrying…"),
    "absent_today": ("Vắng mặt hôm nay", "Absent today"),
    "total": ("Tổng", "Total"),
    "language_switch": ("English", "Tiếng Việt"),
    "none": ("—", "—"),
    "done": ("Đã thực hiện.", "Done."),
    "device": ("Thiết bị", "Device"),
    "state": ("Tình trạng", "State"),
    "last_contact": ("Liên lạc gần nhất", "Last contact"),
    "version": ("Phiên bản", "Version"),
    "printer": ("Máy in", "Printer"),
    "last_ticket": ("Phiếu in gần nhất", "Last ticket"),
    "clock_offset": ("Lệch giờ", "Clock offset"),
    "unsynced": ("Chưa gửi", "Unsynced"),
    "rejected": ("Bị từ chối", "Rejected"),
    "disk_free": ("Đĩa trống", "Disk free"),
    "never": ("chưa bao giờ", "never"),
    "status_waiting": ("đang chờ", "waiting"),
    "status_called": ("đang khám", "in the room"),
    "status_served": ("đã khám xong", "served"),
    "status_no_show": ("vắng mặt", "absent"),
    "status_transferred": ("đã chuyển khoa", "transferred"),
    "status_cancelled": ("đã huỷ", "cancelled"),
    "period": ("Khoảng thời gian", "Period"),
    "period_day": ("Ngày", "Day"),
    "period_week": ("Tuần", "Week"),
    "period_month": ("Tháng", "Month"),
    "date": ("Ngày", "Date"),
    "show": ("Xem", "Show"),
    "median_wait": ("Chờ (trung vị)", "Wait (median)"),
    "p90_wait": ("Chờ (p90)", "Wait (p90)"),
    "median_service": ("Khám (trung vị)", "Service (median)"),
    "p90_service": ("Khám (p90)", "Service (p90)"),
    "minutes_note": (
        "Thời gian tính bằng phút; ▲▼ so với kỳ trước cùng độ dài. p90: 9 trên 10 người "
        "chờ không lâu hơn.",
        "Times in minutes; ▲▼ against the previous period of the same length. p90: 9 in 10 "
        "patients waited no longer.",
    ),
    "arrivals_per_hour": ("Số người lấy số theo giờ", "Arrivals per hour"),
    "calls_per_hour": ("Số lượt gọi theo giờ", "Calls per hour"),
    "busiest_hours": ("Giờ đông nhất (thứ × giờ)", "Busiest hours (weekday × hour)"),
    "weekdays": ("Thứ 2,Thứ 3,Thứ 4,Thứ 5,Thứ 6,Thứ 7,CN", "Mon,Tue,Wed,Thu,Fri,Sat,Sun"),
    "error": ("Không thực hiện được", "Could not do it"),
}


def translator(language: str) -> Callable[..., str]:
    index = 1 if language == "en" else 0

    def t(key: str, **values: object) -> str:
        pair = TEXT.get(key)
        text = pair[index] if pair else key
        return text.format(**values) if values else text

    return t
