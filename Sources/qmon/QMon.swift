import CeleriacMonitor

/// `qmon`: the Celery monitor. All of it lives in ``CeleriacMonitor``; this only starts it.
@main
enum QMon {
    static func main() async {
        await QMonCommand.main()
    }
}
