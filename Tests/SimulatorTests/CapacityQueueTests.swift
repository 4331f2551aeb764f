import Testing
@testable import Simulator

@Suite("Simulator capacity queue")
struct CapacityQueueTests {
    @Test("serves up to the capacity at once, queues the rest in order, starts them as services end")
    func fifo() {
        var queue = CapacityQueue<Int>(schedule: [.init(atSeconds: 0, capacity: 2)], queueLimit: nil)
        #expect(queue.arrive(1, at: 0) == .serveNow)
        #expect(queue.arrive(2, at: 0) == .serveNow)
        #expect(queue.arrive(3, at: 0) == .queued)
        #expect(queue.arrive(4, at: 0) == .queued)
        #expect(queue.waitingCount == 2)
        #expect(queue.finish(at: 1) == [3])
        #expect(queue.finish(at: 1) == [4])
        #expect(queue.finish(at: 1) == [])
        #expect(queue.serving == 1)
        #expect(queue.peakWaiting == 2)
    }

    @Test("past the queue limit a request is refused")
    func queueLimit() {
        var queue = CapacityQueue<Int>(schedule: [.init(atSeconds: 0, capacity: 1)], queueLimit: 1)
        #expect(queue.arrive(1, at: 0) == .serveNow)
        #expect(queue.arrive(2, at: 0) == .queued)
        #expect(queue.arrive(3, at: 0) == .refused)
    }

    @Test("a scheduled drop in capacity holds new starts until fewer are served; a rise starts waiting ones")
    func schedule() {
        var queue = CapacityQueue<Int>(schedule: [.init(atSeconds: 0, capacity: 4), .init(atSeconds: 60, capacity: 2), .init(atSeconds: 120, capacity: 3)], queueLimit: nil)
        for job in 1...4 { #expect(queue.arrive(job, at: 10) == .serveNow) }
        #expect(queue.arrive(5, at: 61) == .queued)
        #expect(queue.finish(at: 62) == [], "3 still served, capacity 2")
        #expect(queue.finish(at: 62) == [], "2 served, capacity 2")
        #expect(queue.finish(at: 62) == [5])
        #expect(queue.arrive(6, at: 63) == .queued)
        #expect(queue.admitWaiting(at: 121) == [6], "capacity rose to 3")
        #expect(queue.capacity(at: 59.9) == 4)
        #expect(queue.capacity(at: 60) == 2)
    }

    @Test("schedules parse from a number or seconds:capacity pairs", arguments: [
        ("48", [48.0, 0]), ("0:48,60:24", [48, 0, 24, 60]), ("60:24,0:48", [48, 0, 24, 60]),
    ])
    func parse(text: String, flat: [Double]) {
        let parsed = parseCapacitySchedule(text)
        #expect(parsed?.flatMap { [Double($0.capacity), $0.atSeconds] } == flat)
    }

    @Test("bad schedules are refused", arguments: ["", "0", "abc", "10:48", "0:48,x:2", "0:-1", "0:48,5"])
    func parseBad(text: String) {
        #expect(parseCapacitySchedule(text) == nil)
    }
}
