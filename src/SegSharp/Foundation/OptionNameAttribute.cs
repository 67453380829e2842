namespace SegSharp.Foundation;

/// <summary>The name a config file uses for an enum member, e.g. <c>[OptionName("deeplabv3plus")]</c>.</summary>
[AttributeUsage(AttributeTargets.Field)]
public sealed class OptionNameAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}
