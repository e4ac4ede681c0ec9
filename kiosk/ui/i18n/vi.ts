<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="vi_VN" sourcelanguage="en_GB">
<context>
    <name>Board</name>
    <message>
        <source>Now calling</source>
        <translation>Đang mời</translation>
    </message>
    <message>
        <source>Please wait for your number to be called.</source>
        <translation>Xin vui lòng chờ đến khi số của bạn được gọi.</translation>
    </message>
    <message>
        <source>Waiting</source>
        <translation>Đang chờ</translation>
    </message>
    <message>
        <source>Connection lost: calls may be late. Reconnecting…</source>
        <translation>Mất kết nối: số gọi có thể hiện chậm. Đang kết nối lại…</translation>
    </message>
</context>
<context>
    <name>Counter</name>
    <message>
        <source>Call next</source>
        <translation>Gọi số tiếp</translation>
    </message>
    <message>
        <source>Recall</source>
        <translation>Gọi lại</translation>
    </message>
    <message>
        <source>Absent</source>
        <translation>Vắng mặt</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>Khám xong</translation>
    </message>
    <message>
        <source>Transfer</source>
        <translation>Chuyển khoa</translation>
    </message>
    <message>
        <source>Call the selected patient</source>
        <translation>Gọi số đã chọn</translation>
    </message>
    <message>
        <source>Cancel (Esc)</source>
        <translation>Huỷ (Esc)</translation>
    </message>
    <message>
        <source>Counter</source>
        <translation>Bàn gọi số</translation>
    </message>
    <message>
        <source>Connection is back.</source>
        <translation>Đã kết nối lại.</translation>
    </message>
    <message>
        <source>Nobody is waiting.</source>
        <translation>Không có ai đang chờ.</translation>
    </message>
    <message>
        <source>{code} sent to {department}.</source>
        <translation>Đã chuyển {code} sang {department}.</translation>
    </message>
    <message>
        <source>Not done: no connection. Try again when it is back.</source>
        <translation>Chưa thực hiện: mất kết nối. Hãy thử lại khi có kết nối.</translation>
    </message>
    <message>
        <source>Not possible: the ticket has changed. Updated.</source>
        <translation>Không thực hiện được: phiếu đã thay đổi. Đã cập nhật.</translation>
    </message>
    <message>
        <source>This counter is not allowed: ask IT for its token.</source>
        <translation>Bàn này chưa được cấp quyền: liên hệ bộ phận CNTT.</translation>
    </message>
    <message>
        <source>Not found on the server.</source>
        <translation>Không tìm thấy trên máy chủ.</translation>
    </message>
    <message>
        <source>The server could not do it. Try again.</source>
        <translation>Máy chủ chưa thực hiện được. Hãy thử lại.</translation>
    </message>
    <message>
        <source>{code} did not come after {n} recalls: marked absent.</source>
        <translation>{code} không đến sau {n} lần gọi lại: đã ghi vắng mặt.</translation>
    </message>
    <message>
        <source>Send {code} to which department? Press its number.</source>
        <translation>Chuyển {code} sang khoa nào? Bấm số tương ứng.</translation>
    </message>
    <message>
        <source>Connecting to the server…</source>
        <translation>Đang kết nối máy chủ…</translation>
    </message>
    <message>
        <source>NO CONNECTION to the server. Reconnecting by itself… The buttons work again when it is back.</source>
        <translation>MẤT KẾT NỐI máy chủ. Đang tự kết nối lại… Các nút sẽ hoạt động khi có kết nối.</translation>
    </message>
    <message>
        <source>Offline</source>
        <translation>Mất kết nối</translation>
    </message>
    <message>
        <source>Connected</source>
        <translation>Đã kết nối</translation>
    </message>
    <message>
        <source>Calling the next patient…</source>
        <translation>Đang gọi số tiếp…</translation>
    </message>
    <message>
        <source>Waiting for the server&apos;s answer.</source>
        <translation>Đang chờ máy chủ trả lời.</translation>
    </message>
    <message>
        <source>Now serving</source>
        <translation>Đang khám</translation>
    </message>
    <message>
        <source>Nobody called. Press Call next.</source>
        <translation>Chưa gọi ai. Bấm Gọi số tiếp.</translation>
    </message>
    <message>
        <source>Priority: {what}</source>
        <translation>Ưu tiên: {what}</translation>
    </message>
    <message>
        <source>Called {n} min ago</source>
        <translation>Đã gọi {n} phút trước</translation>
    </message>
    <message>
        <source>recalled {n} of {max}</source>
        <translation>gọi lại {n}/{max} lần</translation>
    </message>
    <message>
        <source>Transferred</source>
        <translation>Chuyển đến</translation>
    </message>
    <message>
        <source>Priority</source>
        <translation>Ưu tiên</translation>
    </message>
    <message>
        <source>{n} min</source>
        <translation>{n} phút</translation>
    </message>
    <message>
        <source>Waiting: {n}</source>
        <translation>Đang chờ: {n}</translation>
    </message>
    <message>
        <source>Today: {issued} issued · {served} done · {absent} absent · {moved} moved</source>
        <translation>Hôm nay: cấp {issued} · xong {served} · vắng {absent} · chuyển {moved}</translation>
    </message>
</context>
<context>
    <name>Kiosk</name>
    <message>
        <source>Not giving numbers now</source>
        <translation>Tạm ngừng cấp số</translation>
    </message>
    <message>
        <source>No more numbers today</source>
        <translation>Hôm nay đã hết số</translation>
    </message>
    <message>
        <source>Closed</source>
        <translation>Đã đóng cửa</translation>
    </message>
    <message>
        <source>The ticket printer has run out of paper.</source>
        <translation>Máy in phiếu đã hết giấy.</translation>
    </message>
    <message>
        <source>The ticket printer&apos;s cover is open.</source>
        <translation>Nắp máy in phiếu đang mở.</translation>
    </message>
    <message>
        <source>This kiosk has run out of storage space.</source>
        <translation>Máy cấp số đã hết chỗ lưu dữ liệu.</translation>
    </message>
    <message>
        <source>This kiosk needs maintenance.</source>
        <translation>Máy cấp số đang cần bảo trì.</translation>
    </message>
    <message>
        <source>This kiosk is connecting to the hospital&apos;s system.</source>
        <translation>Máy cấp số đang kết nối với hệ thống của bệnh viện.</translation>
    </message>
    <message>
        <source>The ticket printer is not working.</source>
        <translation>Máy in phiếu đang không hoạt động.</translation>
    </message>
    <message>
        <source>ready</source>
        <translation>sẵn sàng</translation>
    </message>
    <message>
        <source>paper nearly finished</source>
        <translation>sắp hết giấy</translation>
    </message>
    <message>
        <source>out of paper</source>
        <translation>hết giấy</translation>
    </message>
    <message>
        <source>cover open</source>
        <translation>đang mở nắp</translation>
    </message>
    <message>
        <source>offline</source>
        <translation>mất kết nối</translation>
    </message>
    <message>
        <source>error</source>
        <translation>lỗi</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>không rõ</translation>
    </message>
    <message>
        <source>Please ask at the reception desk.</source>
        <translation>Xin vui lòng hỏi tại quầy tiếp đón.</translation>
    </message>
    <message>
        <source>Tap the department you need</source>
        <translation>Chạm vào khoa bạn cần khám</translation>
    </message>
    <message>
        <source>◀ Previous</source>
        <translation>◀ Trang trước</translation>
    </message>
    <message>
        <source>Next page ▶</source>
        <translation>Trang sau ▶</translation>
    </message>
    <message>
        <source>Page {page} of {pages}</source>
        <translation>Trang {page}/{pages}</translation>
    </message>
    <message>
        <source>No one waiting</source>
        <translation>Không có người chờ</translation>
    </message>
    <message>
        <source>{waiting} waiting · about {minutes} min</source>
        <translation>{waiting} người đang chờ · khoảng {minutes} phút</translation>
    </message>
    <message>
        <source>{waiting} waiting · ~{minutes} min</source>
        <translation>{waiting} người chờ · ~{minutes} phút</translation>
    </message>
    <message>
        <source>Department: {name}</source>
        <translation>Khoa: {name}</translation>
    </message>
    <message>
        <source>Are you in a priority group?</source>
        <translation>Bạn có thuộc nhóm ưu tiên không?</translation>
    </message>
    <message>
        <source>If you are, tap your group. If not, tap the blue button.</source>
        <translation>Nếu có, hãy chạm vào nhóm của bạn. Nếu không, hãy chạm vào nút màu xanh.</translation>
    </message>
    <message>
        <source>Not in a priority group</source>
        <translation>Không thuộc nhóm ưu tiên</translation>
    </message>
    <message>
        <source>Back</source>
        <translation>Quay lại</translation>
    </message>
    <message>
        <source>Printing your ticket…</source>
        <translation>Đang in phiếu…</translation>
    </message>
    <message>
        <source>Please wait a moment.</source>
        <translation>Xin vui lòng chờ trong giây lát.</translation>
    </message>
    <message>
        <source>This screen closes by itself in {seconds} s.</source>
        <translation>Màn hình sẽ tự đóng sau {seconds} giây.</translation>
    </message>
    <message>
        <source>Your number</source>
        <translation>Số thứ tự của bạn</translation>
    </message>
    <message>
        <source>Priority: {group}</source>
        <translation>Ưu tiên: {group}</translation>
    </message>
    <message>
        <source>Go to: {place}</source>
        <translation>Mời đến: {place}</translation>
    </message>
    <message>
        <source>You are next.</source>
        <translation>Bạn là người tiếp theo.</translation>
    </message>
    <message>
        <source>People ahead of you: {ahead} · about {minutes} minutes</source>
        <translation>Trước bạn có {ahead} người · chờ khoảng {minutes} phút</translation>
    </message>
    <message>
        <source>Take your ticket from the printer below.</source>
        <translation>Xin nhận phiếu ở khe máy in bên dưới.</translation>
    </message>
    <message>
        <source>Scan with a phone to follow your turn.</source>
        <translation>Quét mã bằng điện thoại để theo dõi lượt khám.</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>Xong</translation>
    </message>
    <message>
        <source>Sorry, your ticket could not be printed.</source>
        <translation>Xin lỗi, không in được phiếu của bạn.</translation>
    </message>
    <message>
        <source>You have not been given a number.</source>
        <translation>Bạn chưa được cấp số thứ tự.</translation>
    </message>
    <message>
        <source>Sorry, something went wrong.</source>
        <translation>Xin lỗi, máy đang gặp sự cố.</translation>
    </message>
    <message>
        <source>Your number could not be given.</source>
        <translation>Chưa cấp được số thứ tự cho bạn.</translation>
    </message>
    <message>
        <source>Back to the start</source>
        <translation>Về màn hình chính</translation>
    </message>
    <message>
        <source>Staff only: enter the PIN</source>
        <translation>Dành cho nhân viên: nhập mã PIN</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>Xóa</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>Đồng ý</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Hủy</translation>
    </message>
    <message>
        <source>Kiosk administration</source>
        <translation>Quản trị máy lấy số</translation>
    </message>
    <message>
        <source>Printer: {state}</source>
        <translation>Máy in: {state}</translation>
    </message>
    <message>
        <source>never</source>
        <translation>chưa lần nào</translation>
    </message>
    <message>
        <source>Sync: {pending} events waiting, {rejected} rejected, last sent {last}</source>
        <translation>Đồng bộ: {pending} sự kiện chờ gửi, {rejected} bị từ chối, lần gửi cuối {last}</translation>
    </message>
    <message>
        <source>no server configured</source>
        <translation>chưa cấu hình máy chủ</translation>
    </message>
    <message>
        <source>Test print</source>
        <translation>In thử</translation>
    </message>
    <message>
        <source>Reprint last ticket</source>
        <translation>In lại phiếu gần nhất</translation>
    </message>
    <message>
        <source>Departments</source>
        <translation>Các khoa</translation>
    </message>
    <message>
        <source>paused</source>
        <translation>đang tạm ngừng</translation>
    </message>
    <message>
        <source>taking numbers</source>
        <translation>đang cấp số</translation>
    </message>
    <message>
        <source>Paused</source>
        <translation>Tạm ngừng</translation>
    </message>
    <message>
        <source>paused by the hospital</source>
        <translation>bệnh viện tạm ngừng</translation>
    </message>
    <message>
        <source>paused here</source>
        <translation>tạm ngừng tại ki-ốt này</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>Tiếp tục</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>Tạm ngừng</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Đóng</translation>
    </message>
    <message>
        <source>Exit the kiosk program</source>
        <translation>Thoát chương trình</translation>
    </message>
    <message>
        <source>Numbers cannot be given right now.</source>
        <translation>Hiện tại chưa lấy được số.</translation>
    </message>
    <message>
        <source>Please wait a moment…</source>
        <translation>Xin vui lòng chờ giây lát…</translation>
    </message>
    <message>
        <source>No department is giving numbers now.</source>
        <translation>Hiện chưa có khoa nào cấp số.</translation>
    </message>
    <message>
        <source>This department is not giving numbers now.</source>
        <translation>Khoa này đang tạm ngừng cấp số.</translation>
    </message>
    <message>
        <source>Please choose another or ask at the reception desk.</source>
        <translation>Xin chọn khoa khác hoặc hỏi tại quầy tiếp đón.</translation>
    </message>
    <message>
        <source>No admin PIN is set. Set one with: kiosk set-pin</source>
        <translation>Chưa đặt mã PIN quản trị. Đặt bằng lệnh: kiosk set-pin</translation>
    </message>
    <message>
        <source>Too many wrong PINs. Try again in {minutes} min.</source>
        <translation>Nhập sai mã PIN quá nhiều lần. Thử lại sau {minutes} phút.</translation>
    </message>
    <message>
        <source>Wrong PIN. {left} tries left.</source>
        <translation>Sai mã PIN. Còn {left} lần thử.</translation>
    </message>
    <message>
        <source>Failed: {error}</source>
        <translation>Thất bại: {error}</translation>
    </message>
    <message>
        <source>A test ticket was sent to the printer.</source>
        <translation>Đã gửi phiếu in thử tới máy in.</translation>
    </message>
    <message>
        <source>No ticket has been printed yet.</source>
        <translation>Chưa có phiếu nào để in lại.</translation>
    </message>
    <message>
        <source>Ticket {code} was printed again.</source>
        <translation>Đã in lại phiếu {code}.</translation>
    </message>
    <message>
        <source>Your ID card gives you priority. Tap the blue button.</source>
        <translation>Thẻ căn cước cho thấy bạn được ưu tiên. Chạm vào nút màu xanh.</translation>
    </message>
    <message>
        <source>Not me: choose myself</source>
        <translation>Không đúng: tôi tự chọn</translation>
    </message>
    <message>
        <source>ID card read: priority {group}.</source>
        <translation>Đã đọc thẻ căn cước: ưu tiên {group}.</translation>
    </message>
    <message>
        <source>This code is not an ID card. Please scan the QR code on your citizen ID card.</source>
        <translation>Mã này không phải thẻ căn cước. Vui lòng quét mã QR trên thẻ căn cước của bạn.</translation>
    </message>
    <message>
        <source>ID card read: no priority by age.</source>
        <translation>Đã đọc thẻ căn cước: không thuộc nhóm ưu tiên theo tuổi.</translation>
    </message>
</context>
</TS>
