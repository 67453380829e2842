using System.Text.Json;
using System.Text.Json.Serialization;

namespace SegSharp.Foundation;

/// <summary>Writes option enums in JSON by their config names ("deeplabv3plus"), so files read like the config.</summary>
internal sealed class OptionNameJsonConverter : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert.IsEnum && typeToConvert.GetFields().Any(f => f.IsDefined(typeof(OptionNameAttribute), false));

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(Converter<>).MakeGenericType(typeToConvert))!;

    private sealed class Converter<T> : JsonConverter<T> where T : struct, Enum
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            string name = reader.GetString() ?? "";
            return OptionNames<T>.TryParse(name, out T value)
                ? value
                : throw new JsonException($"'{name}' is not a {typeof(T).Name}; known: {OptionNames<T>.Choices}");
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            writer.WriteStringValue(OptionNames<T>.Name(value));
    }
}
