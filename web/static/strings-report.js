// Strings of the resident's pages (/report, /track): Chinese first, English available.
import { addStrings } from "./i18n.js";

addStrings({
  zh: {
    "report.title": "随手拍 · 上报问题", "report.category": "问题类别", "report.description": "问题描述",
    "report.photos": "现场照片（最多4张）", "report.contact": "联系电话（选填，仅工作人员可见）", "report.submit": "提交",
    "report.qr": "来自网格二维码：{name}", "report.where": "所在网格：{grid}（{community}）",
    "report.outside": "此位置不在任何网格内，仍可提交", "report.locating": "正在定位…",
    "report.denied": "无法获取定位：请拖动地图上的图钉到问题位置", "report.pick": "请选择问题类别",
    "report.too_many": "最多4张照片", "report.matches": "附近已有相同问题正在办理，可以点“我也遇到”支持：",
    "report.me_too": "我也遇到 #{id}（{d} 米）", "report.anyway": "仍然提交新问题",
    "report.pending": "网络不畅，已保存在手机上，联网后自动发送…", "report.sent": "已提交！查询码：",
    "report.keep": "请保存查询码和下面的链接，用于查看进度和评价：", "report.follow": "查看办理进度",
    "report.failed": "提交失败：{e}", "report.joined": "已支持该问题，查询码：",
    "track.title": "办理进度", "track.token": "查询密钥", "track.open": "查询", "track.rate": "评价办理结果",
    "track.comment": "意见（选填）", "track.send": "提交评价", "track.rated": "已评价 {n} 星，谢谢！",
    "track.merged": "此问题已与 {code} 合并办理",
  },
  en: {
    "report.title": "Report a problem", "report.category": "Category", "report.description": "What is wrong",
    "report.photos": "Photos (up to 4)", "report.contact": "Phone (optional, staff only)", "report.submit": "Send",
    "report.qr": "From the grid's QR code: {name}", "report.where": "Grid: {grid} ({community})",
    "report.outside": "This place is outside every grid; you can still send", "report.locating": "Locating…",
    "report.denied": "No position: drag the pin on the map to the problem", "report.pick": "Choose a category",
    "report.too_many": "At most 4 photos", "report.matches": "The same problem nearby is being handled; support it with “me too”:",
    "report.me_too": "Me too #{id} ({d} m)", "report.anyway": "Send a new report anyway",
    "report.pending": "Weak network: kept on this phone, it will be sent when the network is back…",
    "report.sent": "Sent! Tracking code:", "report.keep": "Keep the code and this link to follow and rate it:",
    "report.follow": "Follow the case", "report.failed": "Not sent: {e}", "report.joined": "You support this case. Tracking code:",
    "track.title": "Progress", "track.token": "Secret", "track.open": "Open", "track.rate": "Rate the outcome",
    "track.comment": "Comment (optional)", "track.send": "Send rating", "track.rated": "Rated {n} stars, thank you!",
    "track.merged": "This report is handled together with {code}",
  },
});
