import CeleriacBench

/// `qbench`: the benchmark of issue #6. All of it lives in ``CeleriacBench``; this only starts it.
@main
enum QBench {
    static func main() async {
        await BenchCommand.main()
    }
}
