// Turning config values into the words of annotations and descriptions, so
// that a threshold or duration changed in _config is also what the alert
// says.
{
  // percent(0.1) is "10%"; shares keep one decimal at most.
  percent(share):: self.number(std.round(share * 1000) / 10) + '%',

  // number(0.1) is "0.1": the shortest form that reads back as the same
  // number, where std.toString and %s write 0.10000000000000001.
  number(x)::
    if x == std.floor(x) && std.abs(x) < 1e15 then std.format('%d', x) else
      local forms = [std.format('%.*g', [digits, x]) for digits in std.range(1, 17)];
      [s for s in forms if std.parseJson(s) == x][0],

  // words('15m') is "15 minutes", words('1h') "1 hour". A duration of
  // several units ('1h30m') stays as written.
  words(duration)::
    local units = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week' };
    local unit = duration[std.length(duration) - 1];
    local count = duration[0:std.length(duration) - 1];
    if std.objectHas(units, unit) && std.length(count) > 0
       && std.all([std.member('0123456789', ch) for ch in std.stringChars(count)])
    then count + ' ' + units[unit] + (if count == '1' then '' else 's')
    else duration,
}
