using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace MyApp;

/// <summary>Calls a running <c>segsharp serve</c>: the mask PNG of an image, or each class's area in pixels.</summary>
public sealed class SegSharpClient(HttpClient http)
{
    public sealed record ClassArea(string Name, long Pixels, double Fraction);

    public sealed record Areas(int Width, int Height, string Task, List<ClassArea> Classes);

    /// <summary>The mask as PNG: palette indices = class indices, colours = the classes' colours.</summary>
    public async Task<byte[]> MaskAsync(byte[] image, CancellationToken cancel = default)
    {
        using var content = new ByteArrayContent(image);
        using var response = await http.PostAsync("predict", content, cancel);
        await ThrowUnlessOk(response, cancel);
        return await response.Content.ReadAsByteArrayAsync(cancel);
    }

    /// <summary>Each class's area in the image.</summary>
    public async Task<Areas> AreasAsync(byte[] image, CancellationToken cancel = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "predict") { Content = new ByteArrayContent(image) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await http.SendAsync(request, cancel);
        await ThrowUnlessOk(response, cancel);
        return (await response.Content.ReadFromJsonAsync<Areas>(cancel))!;
    }

    /// <summary>400 (bad image), 413 (too large) and 503 (busy: retry after the Retry-After seconds) carry a one-line reason.</summary>
    private static async Task ThrowUnlessOk(HttpResponseMessage response, CancellationToken cancel)
    {
        if (response.IsSuccessStatusCode) return;
        string reason = (await response.Content.ReadAsStringAsync(cancel)).Trim();
        throw new HttpRequestException($"segsharp serve answered {(int)response.StatusCode}: {reason}", null, response.StatusCode);
    }
}
