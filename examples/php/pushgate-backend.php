<?php
// A pushgate backend in plain PHP 8 (no composer), for PHP's built-in server:
//
//   PUSHGATE_WEBHOOK_SECRET=… PUSHGATE_EVENTS_FILE=/tmp/events.jsonl \
//     php -S 127.0.0.1:8080 examples/php/pushgate-backend.php
//   pushgate --auth hook --hook-url http://127.0.0.1:8080/hook \
//     --webhook-url http://127.0.0.1:8080/webhook --webhook-secret "$PUSHGATE_WEBHOOK_SECRET"
//
//   GET  /login?uid=42&rooms=staff,ops  a real PHP session (the app's own login, simplified):
//                                       answers Set-Cookie PHPSESSID=…
//   POST /hook                          pushgate's questions (docs/hooks.md): `connect` logs a
//                                       socket in by that session cookie, `rpc` answers calls,
//                                       `message` answers seed frames (--seed-messages backend)
//   POST /webhook                       signed connection events, verified with the lines
//                                       docs/hooks.md gives, appended to PUSHGATE_EVENTS_FILE
//
// /hook is not signed: only pushgate may reach it (listen on loopback or a private network).
// test/hooks/php.test.ts runs this file against the real pushgate.

$path = parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH);
$method = $_SERVER['REQUEST_METHOD'] ?? 'GET';

if ($method === 'GET' && $path === '/login') {
    login();
} elseif ($method === 'POST' && $path === '/hook') {
    hook();
} elseif ($method === 'POST' && $path === '/webhook') {
    webhook();
} else {
    answer(404, ['error' => ['message' => 'no such endpoint']]);
}

/** Sends a JSON answer and ends the request (`never`: PHP 8.1+, Debian's php-cli is 8.2 or later). */
function answer(int $status, array $body): never
{
    http_response_code($status);
    header('Content-Type: application/json');
    echo json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE);
    exit;
}

function login(): never
{
    $uid = $_GET['uid'] ?? '';
    // pushgate's uid rules, simplified: it checks the uid the hook answers again anyway.
    if (!is_string($uid) || !preg_match('/^[A-Za-z0-9_.@-]{1,128}$/', $uid) || $uid === 'all') {
        answer(400, ['error' => ['message' => 'uid must be 1..128 of A-Z a-z 0-9 _ . @ -, not "all"']]);
    }
    $rooms = array_values(array_filter(explode(',', (string)($_GET['rooms'] ?? '')), 'strlen'));
    session_start();
    session_regenerate_id(true); // a login gets a fresh id (no session fixation)
    $_SESSION['user_id'] = $uid;
    $_SESSION['rooms'] = $rooms;
    session_write_close();
    answer(200, ['uid' => $uid, 'rooms' => $rooms]);
}

function hook(): never
{
    $q = json_decode(file_get_contents('php://input'), true);
    if (!is_array($q) || !is_string($q['kind'] ?? null)) {
        answer(400, ['error' => ['message' => 'expected a JSON object with a kind']]);
    }
    match ($q['kind']) {
        'connect' => connect($q),
        'rpc' => rpc($q),
        'message' => message($q),
        default => answer(404, ['error' => ['message' => 'unknown kind ' . $q['kind']]]),
    };
}

/** --auth hook: the upgrade's cookie names a PHP session; its user is the socket's uid. */
function connect(array $q): never
{
    parse_str(str_replace('; ', '&', $q['headers']['cookie'] ?? ''), $cookies);
    $sid = $cookies[session_name()] ?? '';
    // Only an id PHP could have made reaches session_start(): a malformed one would make it warn
    // into this answer (no longer JSON: pushgate would close 1013 instead of refusing).
    if (!is_string($sid) || !preg_match('/^[-,a-zA-Z0-9]{1,256}$/', $sid)) {
        answer(403, ['error' => ['message' => 'no session cookie']]);
    }
    session_id($sid);
    session_start(['read_and_close' => true]);
    if (!isset($_SESSION['user_id'])) {
        answer(403, ['error' => ['message' => 'not logged in']]);
    }
    answer(200, ['uid' => (string)$_SESSION['user_id'], 'groups' => $_SESSION['rooms'] ?? [], 'session' => ['via' => 'php']]);
}

/** pushgate.v1 `rpc`: `result` is the reply; a 4xx `error` reaches the client as its detail. */
function rpc(array $q): never
{
    $data = $q['data'] ?? null;
    switch ($q['method'] ?? '') {
        case 'echo':
            answer(200, ['result' => ['uid' => $q['uid'] ?? null, 'data' => $data]]);
        case 'add':
            $a = $data['a'] ?? null;
            $b = $data['b'] ?? null;
            if (!(is_int($a) || is_float($a)) || !(is_int($b) || is_float($b))) {
                answer(422, ['error' => ['code' => 'BAD_ARGS', 'message' => 'add needs numbers a and b']]);
            }
            answer(200, ['result' => $a + $b]);
        default:
            answer(404, ['error' => ['code' => 'NO_METHOD', 'message' => 'no method ' . (string)($q['method'] ?? '')]]);
    }
}

/** --seed-messages backend: GatewayWorker's onMessage($client_id, $message); `reply` goes back. */
function message(array $q): never
{
    answer(200, ['reply' => ($q['uid'] ?? '?') . ' said: ' . ($q['message'] ?? '')]);
}

function webhook(): never
{
    // --- begin: docs/hooks.md "Webhooks", line for line (test/hooks/php.test.ts compares them) ---
    // No key, no check: getenv() gives false for an unset variable, an empty HMAC key anyone can
    // sign with; a 500 makes pushgate retry the batch until the secret is set.
    if (strlen((string)getenv('PUSHGATE_WEBHOOK_SECRET')) < 16) { http_response_code(500); exit; }
    $body = file_get_contents('php://input');
    $ts = $_SERVER['HTTP_X_PUSHGATE_TIMESTAMP'] ?? '';
    $want = 'sha256=' . hash_hmac('sha256', $ts . '.' . $body, getenv('PUSHGATE_WEBHOOK_SECRET'));
    if (abs(microtime(true) * 1000 - (int)$ts) > 300000 || !hash_equals($want, $_SERVER['HTTP_X_PUSHGATE_SIGNATURE'] ?? '')) {
        http_response_code(401); exit;
    }
    foreach (json_decode($body, true)['events'] as $e) {
        record($e);
    }
    // --- end ---
    answer(200, ['ok' => true]);
}

/**
 * Appends an event as one JSON line, once per id: a retried batch repeats its ids (delivery is
 * at least once). A real app would use a unique key in its database.
 */
function record(array $e): void
{
    $file = getenv('PUSHGATE_EVENTS_FILE') ?: sys_get_temp_dir() . '/pushgate-events.jsonl';
    $h = fopen($file, 'c+');
    flock($h, LOCK_EX);
    while (($line = fgets($h)) !== false) {
        if ((json_decode($line, true)['id'] ?? null) === ($e['id'] ?? null)) {
            flock($h, LOCK_UN);
            fclose($h);
            return;
        }
    }
    fseek($h, 0, SEEK_END);
    fwrite($h, json_encode($e, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE) . "\n");
    fflush($h);
    flock($h, LOCK_UN);
    fclose($h);
}
