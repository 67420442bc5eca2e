namespace Traceability.Ledger.Epcis;

/// <summary>
/// The standard vocabularies of CBV 2.0 as the EPCIS 2.0 JSON-LD context defines them
/// (https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld):
/// which bare words each field accepts and the URI each expands to. Contexts are never fetched.
/// </summary>
public static class CbvVocabulary
{
    public const string StandardContext = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";
    public const string Cbv = "https://ref.gs1.org/cbv/";
    public const string Gs1Voc = "https://gs1.org/voc/";

    /// <summary>The prefixes the standard context declares.</summary>
    public static IReadOnlyDictionary<string, string> StandardPrefixes { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["epcis"] = "https://ref.gs1.org/epcis/",
        ["cbv"] = Cbv,
        ["cbvmda"] = "urn:epcglobal:cbv:mda:",
        ["gs1"] = Gs1Voc,
        ["rdfs"] = "http://www.w3.org/2000/01/rdf-schema#",
        ["owl"] = "http://www.w3.org/2002/07/owl#",
        ["xsd"] = "http://www.w3.org/2001/XMLSchema#",
        ["dcterms"] = "http://purl.org/dc/terms/",
    };

    public static readonly IReadOnlySet<string> BizSteps = Words(
        "accepting arriving assembling collecting commissioning consigning creating_class_instance cycle_counting decommissioning departing destroying disassembling dispensing encoding entering_exiting holding inspecting installing killing loading other packing picking receiving removing repackaging repairing replacing reserving retail_selling sampling sensor_reporting shipping staging_outbound stock_taking stocking storing transporting unloading unpacking void_shipping");

    public static readonly IReadOnlySet<string> Dispositions = Words(
        "active available completeness_verified completeness_inferred conformant container_closed container_open damaged destroyed dispensed disposed encoded expired in_progress in_transit inactive mismatch_instance mismatch_class mismatch_quantity needs_replacement no_pedigree_match non_conformant non_sellable_other partially_dispensed recalled reserved retail_sold returned sellable_accessible sellable_not_accessible stolen unavailable unknown");

    public static readonly IReadOnlySet<string> BizTransactionTypes = Words("bol cert desadv inv pedigree po poc prodorder recadv rma testprd testres upevt");

    public static readonly IReadOnlySet<string> SourceDestinationTypes = Words("owning_party possessing_party location");

    internal static readonly HashSet<string> MeasurementTypes = Words(
        "AbsoluteHumidity AbsorbedDose AbsorbedDoseRate Acceleration Radioactivity Altitude AmountOfSubstance AmountOfSubstancePerUnitVolume Angle AngularAcceleration AngularMomentum AngularVelocity Area Capacitance Conductance Conductivity Count Density Dimensionless DoseEquivalent DoseEquivalentRate DynamicViscosity ElectricCharge ElectricCurrent ElectricCurrentDensity ElectricFieldStrength Energy Exposure Force Frequency Illuminance Inductance Irradiance KinematicViscosity Length LinearMomentum Luminance LuminousFlux LuminousIntensity MagneticFlux MagneticFluxDensity MagneticVectorPotential Mass MassConcentration MassFlowRate MassPerAreaTime MemoryCapacity MolalityOfSolute MolarEnergy MolarMass MolarVolume Power Pressure RadiantFlux RadiantIntensity RelativeHumidity Resistance Resistivity SolidAngle SpecificVolume Speed SurfaceDensity SurfaceTension Temperature Time Torque Voltage Volume VolumeFlowRate VolumeFraction VolumetricFlux Wavenumber");

    internal static readonly HashSet<string> SensorExceptions = Words("ALARM_CONDITION ERROR_CONDITION");

    internal static readonly HashSet<string> Components = Words(
        "x y z axial_distance azimuth height spherical_radius polar_angle elevation_angle easting northing latitude longitude altitude");

    internal static readonly HashSet<string> ErrorReasons = Words("did_not_occur incorrect_data");

    /// <summary>
    /// The short name of a CBV URI: <c>shipping</c> for <c>https://ref.gs1.org/cbv/BizStep-shipping</c> with the prefix
    /// <c>BizStep-</c>; any other value as it is.
    /// </summary>
    public static string? ShortName(string? uri, string prefix) =>
        uri is not null && uri.StartsWith(Cbv, StringComparison.Ordinal) && uri.AsSpan(Cbv.Length).StartsWith(prefix, StringComparison.Ordinal)
            ? uri[(Cbv.Length + prefix.Length)..] : uri;

    /// <summary>
    /// The CBV business step's bare word (e.g. "shipping") of a bizStep in its web, CURIE, urn:epcglobal:cbv or bare
    /// form; null for null and for user vocabularies.
    /// </summary>
    public static string? BizStepName(string? bizStep)
    {
        if (bizStep is null) return null;
        var name = ShortName(WebVocabulary(bizStep), "BizStep-")!;
        return name.Contains(':', StringComparison.Ordinal) ? null : name;
    }

    /// <summary>A bizStep as its full CBV URI (bare word, CURIE and urn:epcglobal:cbv:bizstep forms); other values unchanged.</summary>
    public static string ExpandBizStep(string value) => ExpandWord(value, BizSteps, Cbv + "BizStep-");

    /// <summary>A disposition as its full CBV URI; other values unchanged.</summary>
    public static string ExpandDisposition(string value) => ExpandWord(value, Dispositions, Cbv + "Disp-");

    public static string ExpandBizTransactionType(string value) => ExpandWord(value, BizTransactionTypes, Cbv + "BTT-");

    public static string ExpandSourceDestinationType(string value) => ExpandWord(value, SourceDestinationTypes, Cbv + "SDT-");

    public static string ExpandErrorReason(string value) => ExpandWord(value, ErrorReasons, Cbv + "ER-");

    internal static string ExpandWord(string value, IReadOnlySet<string> words, string prefix)
    {
        var v = value.Trim();
        if (words.Contains(v)) return prefix + v;
        if (v.StartsWith("cbv:", StringComparison.Ordinal)) return Cbv + v[4..];
        if (v.StartsWith("gs1:", StringComparison.Ordinal)) return Gs1Voc + v[4..];
        return WebVocabulary(v);
    }

    /// <summary>urn:epcglobal:cbv:{bizstep,disp,btt,sdt,er}: to their https://ref.gs1.org/cbv/ equivalents (rule 14).</summary>
    public static string WebVocabulary(string text)
    {
        if (!text.Contains("urn:epcglobal:cbv:", StringComparison.Ordinal)) return text;
        return text
            .Replace("urn:epcglobal:cbv:bizstep:", Cbv + "BizStep-", StringComparison.Ordinal)
            .Replace("urn:epcglobal:cbv:disp:", Cbv + "Disp-", StringComparison.Ordinal)
            .Replace("urn:epcglobal:cbv:btt:", Cbv + "BTT-", StringComparison.Ordinal)
            .Replace("urn:epcglobal:cbv:sdt:", Cbv + "SDT-", StringComparison.Ordinal)
            .Replace("urn:epcglobal:cbv:er:", Cbv + "ER-", StringComparison.Ordinal);
    }

    private static HashSet<string> Words(string list) => new(list.Split(' '), StringComparer.Ordinal);
}
