import Testing
@testable import Tender

@Suite("Device options (unit)")
struct DeviceOptionTests {
    @Test func nameAndValue() throws {
        let option = try #require(DeviceOption("--block:disk0=/a b", prefix: "--block:"))
        #expect(option.name == "disk0" && option.value == "/a b" && option.text == "--block:disk0=/a b")
        #expect(option.word(maxLength: 100) == "/a")
        #expect(try #require(DeviceOption("--net:n=  \ttap0 x", prefix: "--net:")).word(maxLength: 3) == "tap")
        #expect(try #require(DeviceOption("--net:n=", prefix: "--net:")).word(maxLength: 19) == "")
    }

    @Test(arguments: ["--block:=x", "--block:a-b=x", "--block:ab", "--net:a=x", "--block:\(String(repeating: "a", count: 68))=x"])
    func notADeviceOption(_ text: String) {
        #expect(DeviceOption(text, prefix: "--block:") == nil)
    }

    @Test func longestName() {
        #expect(DeviceOption("--block:\(String(repeating: "a", count: 67))=x", prefix: "--block:")?.name.count == 67)
    }

    /// One key per option and device: what a later option replaces.
    @Test func keyNamesOptionAndDevice() throws {
        #expect(try #require(DeviceOption("--block:a=1", prefix: "--block:")).key == "--block:a")
        #expect(try #require(DeviceOption("--block-sector-size:a=512", prefix: "--block-sector-size:")).key
                == "--block-sector-size:a")
    }
}
