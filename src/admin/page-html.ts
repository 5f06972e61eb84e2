// The dashboard's HTML shell. Static: every value is filled in by page/main.ts with textContent
// (never as markup), so uids, reasons and sessions cannot inject anything.
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<title>pushgate admin</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/admin/app.css">
<script type="module" src="/admin/app.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="bar">
  <h1>pushgate <span class="muted">admin</span></h1>
  <p id="status" class="status">Not logged in</p>
  <div id="session-actions" class="actions" hidden>
    <button type="button" id="pause" aria-pressed="false">Pause updates</button>
    <button type="button" id="logout">Log out</button>
  </div>
</header>
<main id="main" tabindex="-1">
  <section id="login" class="card login" aria-labelledby="login-h">
    <h2 id="login-h">Log in</h2>
    <form id="login-form">
      <label for="key">API key</label>
      <input id="key" name="key" type="password" autocomplete="off" spellcheck="false" required aria-describedby="key-hint">
      <p id="key-hint" class="hint">The server's <code>--api-key</code>. It is sent only in an Authorization header and kept for this tab.</p>
      <button type="submit">Log in</button>
      <p id="login-error" class="error" role="alert"></p>
    </form>
  </section>

  <div id="dash" hidden>
    <p id="poll-error" class="error" role="alert"></p>
    <section aria-labelledby="overview-h">
      <h2 id="overview-h">Overview</h2>
      <dl id="tiles" class="tiles"></dl>
    </section>

    <section aria-labelledby="charts-h">
      <h2 id="charts-h">Last minutes</h2>
      <div class="charts">
        <figure class="card chart">
          <figcaption id="chart-conns-h">Connections and uids</figcaption>
          <canvas id="chart-conns" role="img" aria-labelledby="chart-conns-h chart-conns-d"></canvas>
          <p id="chart-conns-d" class="legend"></p>
        </figure>
        <figure class="card chart">
          <figcaption id="chart-frames-h">Frames per second</figcaption>
          <canvas id="chart-frames" role="img" aria-labelledby="chart-frames-h chart-frames-d"></canvas>
          <p id="chart-frames-d" class="legend"></p>
        </figure>
        <figure class="card chart">
          <figcaption id="chart-api-h">API latency (ms) and drops per second</figcaption>
          <canvas id="chart-api" role="img" aria-labelledby="chart-api-h chart-api-d"></canvas>
          <p id="chart-api-d" class="legend"></p>
        </figure>
      </div>
    </section>

    <section aria-labelledby="nodes-h">
      <h2 id="nodes-h">Nodes</h2>
      <div class="scroll" role="region" aria-labelledby="nodes-h" tabindex="0">
        <table id="nodes"></table>
      </div>
      <p id="nodes-note" class="error nodes-note"></p>
    </section>

    <div class="columns">
      <section aria-labelledby="drops-h">
        <h2 id="drops-h">Drops by reason</h2>
        <table id="drops" class="compact"></table>
      </section>
      <section aria-labelledby="closes-h">
        <h2 id="closes-h">Closes by code</h2>
        <table id="closes" class="compact"></table>
      </section>
    </div>

    <div class="columns">
      <section class="card" aria-labelledby="lookup-h">
        <h2 id="lookup-h">Look up a connection</h2>
        <form id="lookup-form" class="form">
          <fieldset class="inline">
            <legend>Look up by</legend>
            <label><input type="radio" name="by" value="uid" checked> uid</label>
            <label><input type="radio" name="by" value="clientId"> clientId</label>
          </fieldset>
          <label for="lookup-value">uid or clientId</label>
          <input id="lookup-value" name="value" required spellcheck="false" autocomplete="off">
          <button type="submit">Look up</button>
        </form>
        <div id="lookup-result" aria-live="polite"></div>
      </section>
      <section class="card" aria-labelledby="push-h">
        <h2 id="push-h">Send a test push</h2>
        <form id="push-form" class="form">
          <label for="push-kind">To</label>
          <select id="push-kind" name="kind">
            <option value="uid">a uid</option>
            <option value="group">a group</option>
            <option value="clientId">a clientId</option>
            <option value="all">everyone</option>
          </select>
          <label for="push-target">Target</label>
          <input id="push-target" name="target" spellcheck="false" autocomplete="off">
          <label for="push-data">Message</label>
          <textarea id="push-data" name="data" rows="3" required>hello from the admin page</textarea>
          <label class="check"><input type="checkbox" id="push-json" name="json"> Send as JSON</label>
          <button type="submit">Send</button>
        </form>
        <p id="push-result" role="status"></p>
      </section>
    </div>

    <section aria-labelledby="events-h">
      <h2 id="events-h">Recent events</h2>
      <p id="events-note" class="hint"></p>
      <div class="scroll" role="region" aria-labelledby="events-h" tabindex="0">
        <table id="events"></table>
      </div>
    </section>
  </div>
</main>
</body>
</html>
`;
