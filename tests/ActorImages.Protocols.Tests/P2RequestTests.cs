using Xunit;
using static ActorImages.Protocols.P2Request;

namespace ActorImages.Protocols.Tests;

public class P2RequestTests
{
    /// What the legacy client sends (json.dumps, with its ", " and ": " separators), and variants it may.
    public static TheoryData<string, P2Request> Commands => new()
    {
        { "{\"cmd\": \"AUTH\", \"args\": [\"maria\"]}", new Auth("maria") },
        { "{\"cmd\":\"auth\",\"args\":[\"João Ñ\"]}", new Auth("João Ñ") },
        { "{\"cmd\":\"AUTH\",\"args\":[\" bob \"]}", new Auth(" bob ") },
        { "{\"cmd\":\"AUTH\",\"args\":[]}", new Auth("anon") },
        { "{\"cmd\":\"AUTH\"}", new Auth("anon") },
        { "{\"cmd\":\"AUTH\",\"args\":[\"\"]}", new Auth("anon") },
        { "{\"cmd\":\"AUTH\",\"args\":[\"  \\t \"]}", new Auth("anon") },
        { "{\"cmd\":\"AUTH\",\"args\":[null]}", new Auth("anon") },
        { "{\"cmd\":\"AUTH\",\"args\":[42]}", new Auth("anon") },
        { "{\"cmd\":\"AUTH\",\"args\":null}", new Auth("anon") },
        { "{\"cmd\":\"AUTH\",\"args\":[\"\\ud800\"]}", new Auth("anon") },
        { "{\"cmd\": \"LIST\", \"args\": []}", new List() },
        { "{\"cmd\":\"list\"}", new List() },
        { "{\"cmd\":\"LiSt\",\"args\":[\"ignored\"]}", new List() },
        { "{\"args\":[],\"cmd\":\"LIST\"}", new List() },
        { "  {\"cmd\":\"LIST\"}\n", new List() },
        { "{\"cmd\": \"UPLOAD\", \"args\": [\"foto.jpg\", \"123456\"]}", new Upload("foto.jpg", 123456) },
        { "{\"cmd\":\"upload\",\"args\":[\"foto.jpg\",123456]}", new Upload("foto.jpg", 123456) },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"../../etc/passwd\",\"7\"]}", new Upload("../../etc/passwd", 7) },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"0\"]}", new Upload("a", 0) },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"000123\"]}", new Upload("a", 123) },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"9223372036854775807\"]}", new Upload("a", long.MaxValue) },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a\",9223372036854775807]}", new Upload("a", long.MaxValue) },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"\",\"5\"]}", new Upload("", 5) },
        { "{\"cmd\": \"DOWNLOAD\", \"args\": [\"foto.jpg\"]}", new Download("foto.jpg") },
        { "{\"cmd\":\"view\",\"args\":[\"foto.jpg\"]}", new View("foto.jpg") },
        { "{\"cmd\":\"DOWNLOAD\",\"args\":[\"a \\\"b\\\" \\\\c.png\"]}", new Download("a \"b\" \\c.png") },
        { "{\"cmd\": \"DISCONNECT\", \"args\": []}", new Disconnect() },
        { "{\"cmd\":\"disconnect\",\"args\":[1,2,3]}", new Disconnect() },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public void ValidCommandsParse(string frame, P2Request expected) => Assert.Equal(expected, Parse(frame));

    public static TheoryData<string?, string> Errors => new()
    {
        { "LIST", P2Reply.NotJson },
        { "", P2Reply.NotJson },
        { "   \n", P2Reply.NotJson },
        { "{'cmd': 'LIST'}", P2Reply.NotJson },
        { "{\"cmd\":\"LIST\"", P2Reply.NotJson },
        { "{\"cmd\":\"LIST\"} {\"cmd\":\"LIST\"}", P2Reply.NotJson },
        { "{\"cmd\":\"LIST\"}x", P2Reply.NotJson },
        { "{\"cmd\":\"LI\u0001ST\"}", P2Reply.NotJson },
        { "{\"cmd\":\"LIST\"} // comment", P2Reply.NotJson },
        { new string('[', 100_000), P2Reply.NotJson },
        { "{\"cmd\":\"LIST\",\"args\":" + new string('[', 5000) + new string(']', 5000) + "}", P2Reply.NotJson },
        { null, P2Reply.NotJson },
        { "{\"cmd\":\"DELETE\",\"args\":[\"a\"]}", P2Reply.UnknownCommand },
        { "{\"cmd\":\"\"}", P2Reply.UnknownCommand },
        { "{\"cmd\":\" LIST\"}", P2Reply.UnknownCommand },
        { "{\"cmd\":\"LI\u017FT\"}", P2Reply.UnknownCommand }, // 'ſ'.upper() is 'S' in Python
        { "{\"cmd\":\"\\ud800\"}", P2Reply.UnknownCommand },
        { "{\"args\":[]}", P2Reply.UnknownCommand },
        { "{\"cmd\":null}", P2Reply.UnknownCommand },
        { "{\"cmd\":7}", P2Reply.UnknownCommand },
        { "{\"cmd\":[\"LIST\"]}", P2Reply.UnknownCommand },
        { "{}", P2Reply.UnknownCommand },
        { "[\"LIST\"]", P2Reply.UnknownCommand },
        { "\"LIST\"", P2Reply.UnknownCommand },
        { "null", P2Reply.UnknownCommand },
        { "42", P2Reply.UnknownCommand },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a.jpg\"]}", P2Reply.UploadFormat },
        { "{\"cmd\":\"UPLOAD\"}", P2Reply.UploadFormat },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a.jpg\",\"1\",\"x\"]}", P2Reply.UploadFormat },
        { "{\"cmd\":\"UPLOAD\",\"args\":\"ab\"}", P2Reply.UploadFormat },
        { "{\"cmd\":\"UPLOAD\",\"args\":{\"0\":\"a\",\"1\":\"2\"}}", P2Reply.UploadFormat },
        { "{\"cmd\":\"UPLOAD\",\"args\":[7,\"1\"]}", P2Reply.UploadFormat },
        { "{\"cmd\":\"UPLOAD\",\"args\":[null,\"1\"]}", P2Reply.UploadFormat },
        { "{\"cmd\":\"UPLOAD\",\"args\":[[\"a\"],\"1\"]}", P2Reply.UploadFormat },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"12.5\"]}", P2Reply.InvalidSize },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a\",12.5]}", P2Reply.InvalidSize },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a\",12.0]}", P2Reply.InvalidSize },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a\",1e3]}", P2Reply.InvalidSize },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"-1\"]}", P2Reply.InvalidSize },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a\",-1]}", P2Reply.InvalidSize },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"+5\"]}", P2Reply.InvalidSize },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\" 5\"]}", P2Reply.InvalidSize },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"5_000\"]}", P2Reply.InvalidSize },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"\u0665\"]}", P2Reply.InvalidSize }, // Arabic-Indic five
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"\"]}", P2Reply.InvalidSize },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"abc\"]}", P2Reply.InvalidSize },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"9223372036854775808\"]}", P2Reply.InvalidSize },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"" + new string('9', 400) + "\"]}", P2Reply.InvalidSize },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a\",99999999999999999999999]}", P2Reply.InvalidSize },
        // System.Text.Json reads a 5,000-digit number (Jackson refused it as not JSON): valid JSON, no size.
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a\"," + new string('9', 5000) + "]}", P2Reply.InvalidSize },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a\",true]}", P2Reply.InvalidSize },
        { "{\"cmd\":\"UPLOAD\",\"args\":[\"a\",null]}", P2Reply.InvalidSize },
        { "{\"cmd\":\"DOWNLOAD\",\"args\":[]}", P2Reply.FilenameFormat },
        { "{\"cmd\":\"DOWNLOAD\"}", P2Reply.FilenameFormat },
        { "{\"cmd\":\"VIEW\",\"args\":[\"a\",\"b\"]}", P2Reply.FilenameFormat },
        { "{\"cmd\":\"VIEW\",\"args\":\"a\"}", P2Reply.FilenameFormat },
        { "{\"cmd\":\"download\",\"args\":[3]}", P2Reply.FilenameFormat },
        { "{\"cmd\":\"VIEW\",\"args\":[{\"f\":\"a\"}]}", P2Reply.FilenameFormat },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void MalformedCommandsGiveTheSeedsErrorText(string? frame, string message) =>
        Assert.Equal(new Invalid(message), Parse(frame));

    [Fact]
    public void ErrorTextsAreTheSeedsBytes()
    {
        // Written with escapes, so a mis-encoded source file cannot make the test agree with the code.
        Assert.Equal("Formato inv\u00e1lido (n\u00e3o \u00e9 JSON).", P2Reply.NotJson);
        Assert.Equal("Comando desconhecido.", P2Reply.UnknownCommand);
        Assert.Equal("Formato UPLOAD incorreto (esperado: [filename, size]).", P2Reply.UploadFormat);
        Assert.Equal("Tamanho do arquivo invalido.", P2Reply.InvalidSize);
        Assert.Equal("Formato invalido (esperado: [filename]).", P2Reply.FilenameFormat);
        Assert.Equal("Arquivo nao encontrado.", P2Reply.FileNotFound);
    }

    public static TheoryData<P2Request, string> ClientFrames => new()
    {
        { new Auth("maria"), "{\"cmd\":\"AUTH\",\"args\":[\"maria\"]}" },
        { new List(), "{\"cmd\":\"LIST\",\"args\":[]}" },
        { new Upload("foto.jpg", 123456), "{\"cmd\":\"UPLOAD\",\"args\":[\"foto.jpg\",\"123456\"]}" },
        { new Download("a \"b\".png"), "{\"cmd\":\"DOWNLOAD\",\"args\":[\"a \\\"b\\\".png\"]}" },
        { new View("é.png"), "{\"cmd\":\"VIEW\",\"args\":[\"é.png\"]}" },
        { new Disconnect(), "{\"cmd\":\"DISCONNECT\",\"args\":[]}" },
    };

    [Theory]
    [MemberData(nameof(ClientFrames))]
    public void ClientFramesSendTheSizeAsDigitsAndParseBack(P2Request request, string frame)
    {
        Assert.Equal(frame, request.ToJson());
        Assert.Equal(request, Parse(frame));
    }

    [Fact]
    public void AnInvalidRequestIsNeverSent() =>
        Assert.Throws<InvalidOperationException>(() => new Invalid(P2Reply.NotJson).ToJson());
}
