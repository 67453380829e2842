using SegSharp.Foundation;

namespace SegSharp.Tests.Foundation;

public class CsvTests
{
    [Theory]
    [InlineData("road", "road")]
    [InlineData("traffic sign", "traffic sign")]
    [InlineData("car, truck", "\"car, truck\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("two\nlines", "\"two\nlines\"")]
    [InlineData("=SUM(A1:A9)", "'=SUM(A1:A9)")]
    [InlineData("+1", "'+1")]
    [InlineData("-x", "'-x")]
    [InlineData("@cmd", "'@cmd")]
    [InlineData("=HYPERLINK(\"x\",\"y\")", "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"")]
    public void Text_fields_are_quoted_per_RFC_4180_and_never_start_a_formula(string text, string expected) =>
        Assert.Equal(expected, Csv.Field(text));
}
