namespace SegSharp.Configuration;

/// <summary>A config or dataset-description error: names the file, the key's path, the value and what is allowed.</summary>
public sealed class ConfigException : SegSharpException
{
    public ConfigException(string message) : base(message) { }
}
