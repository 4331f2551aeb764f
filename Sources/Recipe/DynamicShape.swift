/// What a conversation dynamic says about a conversation's length.
public enum DynamicShape {
    /// The number of messages a dynamic asks for: the N of "N-turn" in its text ("short 2-turn
    /// Q&A: user asks one question, gets a complete answer" asks for 2: a user message and its
    /// answer; "medium 4-turn" for 4). nil when it names none.
    public static func messages(in dynamic: String) -> Int? {
        let bytes = Array(dynamic.utf8)
        let marker = Array("-turn".utf8)
        guard bytes.count > marker.count else { return nil }
        for start in 1...(bytes.count - marker.count) where bytes[start..<start + marker.count].elementsEqual(marker) {
            var digitsStart = start
            while digitsStart > 0, (48...57).contains(bytes[digitsStart - 1]) { digitsStart -= 1 }
            if digitsStart < start, let n = Int(String(decoding: bytes[digitsStart..<start], as: UTF8.self)), n > 0 { return n }
        }
        return nil
    }
}
