// Body of the flow's "reading to point" function node (bench/nodered/README.md).
// bench/nodered_peer.py puts it into flow.json and defines FLATTEN_COUNTS above it.
//
// In:  msg.topic = <prefix>/<domain>/<site>/<sensor>, msg.payload = the parsed JSON reading.
// Out: one point as the "influx batch" node takes it: {measurement, tags, fields, timestamp}.
// It checks nothing beyond the domain: no types, ranges or required fields, no dead letters.
const parts = msg.topic.split("/");
const domain = parts[parts.length - 3];
if (domain !== "energy" && domain !== "transport" && domain !== "air_quality") {
    return null;  // not a reading (the prefix also carries the grid feed)
}
const reading = msg.payload;
const fields = {};
for (const key in reading) {
    const value = reading[key];
    if (typeof value === "number") {
        if (key !== "ts") {
            fields[key] = value;
        }
    } else if (FLATTEN_COUNTS && key === "counts" && value !== null && typeof value === "object") {
        // Stored as the contract's count_<class> fields; the stock mapping would drop them.
        for (const vehicleClass in value) {
            fields["count_" + vehicleClass] = value[vehicleClass];
        }
    }
}
const tags = { site: parts[parts.length - 2], sensor: parts[parts.length - 1] };
if (typeof reading.carrier === "string") {
    tags.carrier = reading.carrier;
}
// ts is epoch milliseconds (the batch node writes with precision ms) or RFC 3339 text.
const ts = reading.ts;
msg.payload = {
    measurement: domain,
    tags: tags,
    fields: fields,
    timestamp: typeof ts === "string" ? new Date(ts) : ts,
};
return msg;
