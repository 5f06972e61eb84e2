<?php
// Pushgate\Gateway: the static Gateway:: API of GatewayWorker / GatewayClient, answered by
// pushgate's HTTP API (docs/http-api.md). One file, plain PHP 7.4+, php-cli alone: streams only
// (no curl, no composer). A backend migrates by changing one line:
//
//   use GatewayClient\Gateway;   →   use Pushgate\Gateway;       (require this file first)
//   Gateway::$registerAddress = 'http://127.0.0.1:1234';          // pushgate's base URL
//   Gateway::$secretKey = getenv('PUSHGATE_API_KEY');             // its API key ('' or false: none)
//   Gateway::sendToUid($uid, 'hello');
//
// Return shapes are GatewayWorker's (maps value=>value, 0|1, sessions as arrays); the sends return
// pushgate's answer (['reached' => n, …]) where GatewayWorker returns nothing. Every failure
// throws a GatewayException (an \Exception) with pushgate's code, e.g. E_UNAUTHORIZED; a send
// whose outcome is not known (E_CLUSTER_TIMEOUT in its answer, a 202) throws too, never passes
// for success. docs/gatewayworker.md has the details; test/api/php-gateway.test.ts runs every
// method under php-cli against the real pushgate.

namespace Pushgate;

/**
 * A failed call. getErrorCode(): pushgate's code (E_UNAUTHORIZED, E_INVALID_UID, …) or this
 * client's own (E_CONNECT_FAILED, E_TIMEOUT, E_CONNECTION_LOST, E_BAD_RESPONSE, E_BAD_ADDRESS,
 * E_NOT_APPLICABLE, E_BAD_PARAMS); getCode(): the HTTP status, 0 when there was no answer.
 */
class GatewayException extends \Exception
{
    private $errorCode;
    private $field;
    private $outcomeUnknown;
    private $result;
    private $apiMethod;

    public function __construct($errorCode, $message, $status = 0, $field = null, $outcomeUnknown = false, $result = null, $apiMethod = null, $previous = null)
    {
        parent::__construct($errorCode . ': ' . $message . ($apiMethod === null ? '' : " (POST /api/$apiMethod)"), (int)$status, $previous);
        $this->errorCode = $errorCode;
        $this->field = $field;
        $this->outcomeUnknown = $outcomeUnknown;
        $this->result = $result;
        $this->apiMethod = $apiMethod;
    }

    /** pushgate's error code, e.g. 'E_UNAUTHORIZED'. */
    public function getErrorCode() { return $this->errorCode; }

    /** The parameter at fault, as pushgate names it ('uid', 'uid[1]'), or null. */
    public function getField() { return $this->field; }

    /**
     * True when the call may have taken effect: a retry may deliver twice. False means it did
     * not (refused before acting, or never reached pushgate: safe to retry).
     */
    public function isOutcomeUnknown() { return $this->outcomeUnknown; }

    /** A send's answer when it carried an error (['reached' => n, 'timedOut' => […], …]), else null. */
    public function getResult() { return $this->result; }

    /** The API method called ('sendToUid'), or null when none was. */
    public function getApiMethod() { return $this->apiMethod; }
}

class Gateway
{
    /**
     * pushgate's base URL: 'http://127.0.0.1:1234', 'https://push.example.com' or one under a
     * path ('https://example.com/pushgate'); 'host:port' means http://. An array lists nodes of
     * one cluster, tried in order while a connection cannot be opened (nothing was sent yet).
     */
    public static $registerAddress = 'http://127.0.0.1:1234';

    /** pushgate's API key (PUSHGATE_API_KEY), sent as `Authorization: Bearer`; '' sends none. */
    public static $secretKey = '';

    /** Seconds to open the connection (as GatewayClient's). */
    public static $connectTimeout = 3;

    /** Seconds from connected to the whole answer. A cluster call may wait --cluster-timeout. */
    public static $timeout = 10;

    /** Accepted for GatewayClient compatibility and ignored: one connection per call. */
    public static $persistentConnection = false;

    /**
     * Largest answer read, in bytes (headers and body): past it the call throws E_BAD_RESPONSE
     * (outcome unknown) instead of PHP running out of memory_limit. A sessions map can reach
     * pushgate's --api-max-list × --max-session-bytes (80 MiB at its defaults).
     */
    public static $maxAnswerBytes = 16777216;

    // ---- sends: each returns pushgate's answer (GatewayWorker returns nothing) ----

    /**
     * To every logged-in connection, or only to $client_id_array (an empty array sends nothing).
     * $raw is accepted and ignored: pushgate has no protocol encode step.
     */
    public static function sendToAll($message, $client_id_array = null, $exclude_client_id = null, $raw = false)
    {
        $params = array('data' => $message);
        $exclude = $exclude_client_id ? self::names((array)$exclude_client_id) : array();
        if ($client_id_array && !is_array($client_id_array)) { // a falsy one (null, '') means everyone
            throw new GatewayException('E_BAD_PARAMS', '$client_id_array: must be an array of client_ids');
        }
        if (is_array($client_id_array)) {
            // As GatewayWorker: the list minus the excluded; an empty list reaches nobody.
            $ids = array_values(array_diff(self::names($client_id_array), $exclude));
            if (!$ids) {
                return array('reached' => 0);
            }
            $params['clientId'] = $ids;
        } elseif ($exclude) {
            $params['exclude'] = $exclude;
        }
        return self::send('sendToAll', $params);
    }

    /** $client_id may also be an array of client_ids (pushgate's sendToClient takes a list). */
    public static function sendToClient($client_id, $message)
    {
        return self::send('sendToClient', array('clientId' => self::nameOrNames($client_id), 'data' => $message));
    }

    /** @throws GatewayException always: over HTTP there is no current client. */
    public static function sendToCurrentClient($message)
    {
        throw self::noCurrentClient('sendToCurrentClient', 'sendToClient($client_id, $message)');
    }

    /** $uid: a uid or an array of uids (ints are sent as strings, as GatewayWorker's gateway compares them). */
    public static function sendToUid($uid, $message)
    {
        if (is_array($uid) && !$uid) {
            return array('reached' => 0, 'offline' => array());
        }
        return self::send('sendToUid', array('uid' => self::nameOrNames($uid), 'data' => $message));
    }

    /** $group: a group or an array of groups; an empty one sends nothing and answers false (as GatewayWorker). */
    public static function sendToGroup($group, $message, $exclude_client_id = null, $raw = false)
    {
        if (empty($group)) {
            return false;
        }
        $params = array('group' => self::nameOrNames($group), 'data' => $message);
        if ($exclude_client_id) {
            $params['exclude'] = self::names((array)$exclude_client_id);
        }
        return self::send('sendToGroup', $params);
    }

    // ---- presence ----

    /** @return int 1 when pushgate holds the connection, else 0 */
    public static function isOnline($client_id)
    {
        return (int)(bool)self::call('isOnline', array('clientId' => self::name($client_id)));
    }

    /** @return int 1 when the uid has a connection, else 0 */
    public static function isUidOnline($uid)
    {
        return (int)(bool)self::call('isUidOnline', array('uid' => self::name($uid)));
    }

    /** @return array client_id => session array (array() for a connection without one); $group '' means all */
    public static function getAllClientSessions($group = '')
    {
        $r = empty($group)
            ? self::call('getAllClientSessions')
            : self::call('getClientSessionsByGroup', array('group' => self::name($group)));
        $out = array();
        foreach ((array)$r as $client_id => $session) {
            $out[$client_id] = is_array($session) ? $session : array();
        }
        return $out;
    }

    /** @deprecated GatewayWorker's old name of getAllClientSessions */
    public static function getAllClientInfo($group = '')
    {
        trigger_error('Gateway::getAllClientInfo is deprecated, use Gateway::getAllClientSessions', E_USER_DEPRECATED);
        return self::getAllClientSessions($group);
    }

    /** @return array client_id => session array; array() for an empty $group */
    public static function getClientSessionsByGroup($group)
    {
        return empty($group) ? array() : self::getAllClientSessions($group);
    }

    /** @deprecated GatewayWorker's old name of getClientSessionsByGroup (an empty $group means all, as there) */
    public static function getClientInfoByGroup($group)
    {
        trigger_error('Gateway::getClientInfoByGroup is deprecated, use Gateway::getClientSessionsByGroup', E_USER_DEPRECATED);
        return self::getAllClientSessions($group);
    }

    /** Every open connection, logged in or not. */
    public static function getAllClientIdCount()
    {
        return (int)self::call('getAllClientIdCount');
    }

    public static function getAllClientCount()
    {
        return (int)self::call('getAllClientCount');
    }

    /** $group '' counts every connection (as GatewayWorker). */
    public static function getClientIdCountByGroup($group = '')
    {
        if (empty($group)) {
            return self::getAllClientIdCount();
        }
        return (int)self::call('getClientIdCountByGroup', array('group' => self::name($group)));
    }

    public static function getClientCountByGroup($group = '')
    {
        if (empty($group)) {
            return self::getAllClientCount();
        }
        return (int)self::call('getClientCountByGroup', array('group' => self::name($group)));
    }

    /** @return array client_id => client_id; $group may be an array of groups (their union) */
    public static function getClientIdListByGroup($group)
    {
        return self::perGroup('getClientIdListByGroup', $group);
    }

    /** @return array client_id => client_id */
    public static function getAllClientIdList()
    {
        return self::map(self::call('getAllClientIdList'));
    }

    /** @return array a list of client_ids (a list, as GatewayWorker's) */
    public static function getClientIdByUid($uid)
    {
        return array_values((array)self::call('getClientIdByUid', array('uid' => self::name($uid))));
    }

    /** @return array uid => uid; $group may be an array of groups (their union) */
    public static function getUidListByGroup($group)
    {
        return self::perGroup('getUidListByGroup', $group);
    }

    public static function getUidCountByGroup($group)
    {
        if (empty($group)) {
            return 0;
        }
        if (is_array($group)) {
            return count(self::getUidListByGroup($group));
        }
        return (int)self::call('getUidCountByGroup', array('group' => self::name($group)));
    }

    /** @return array uid => uid */
    public static function getAllUidList()
    {
        return self::map(self::call('getAllUidList'));
    }

    public static function getAllUidCount()
    {
        return (int)self::call('getAllUidCount');
    }

    /** @return string|null the uid, null for an unknown or unbound connection */
    public static function getUidByClientId($client_id)
    {
        return self::call('getUidByClientId', array('clientId' => self::name($client_id)));
    }

    /** @return array group => group */
    public static function getAllGroupIdList()
    {
        return self::map(self::call('getAllGroupIdList'));
    }

    /** @return array group => distinct uids in it */
    public static function getAllGroupUidCount()
    {
        return array_map('intval', (array)self::call('getAllGroupUidCount'));
    }

    /** @return array group => (uid => uid) */
    public static function getAllGroupUidList()
    {
        return array_map(array(self::class, 'map'), (array)self::call('getAllGroupUidList'));
    }

    /** @return array group => (client_id => client_id) */
    public static function getAllGroupClientIdList()
    {
        return array_map(array(self::class, 'map'), (array)self::call('getAllGroupClientIdList'));
    }

    /** @return array group => connections in it */
    public static function getAllGroupClientIdCount()
    {
        return array_map('intval', (array)self::call('getAllGroupClientIdCount'));
    }

    // ---- closing ----

    /** Sends $message (if not null), then closes with 1000. @return bool whether the connection existed */
    public static function closeClient($client_id, $message = null)
    {
        $params = array('clientId' => self::name($client_id));
        if ($message !== null) {
            $params['message'] = $message;
        }
        return (bool)self::call('closeClient', $params);
    }

    /** @throws GatewayException always: over HTTP there is no current client. */
    public static function closeCurrentClient($message = null)
    {
        throw self::noCurrentClient('closeCurrentClient', 'closeClient($client_id, $message)');
    }

    /** Drops the connection at once: no final message, no close handshake. @return bool whether it existed */
    public static function destoryClient($client_id)
    {
        return (bool)self::call('destroyClient', array('clientId' => self::name($client_id)));
    }

    /** @throws GatewayException always: over HTTP there is no current client. */
    public static function destoryCurrentClient()
    {
        throw self::noCurrentClient('destoryCurrentClient', 'destoryClient($client_id)');
    }

    // ---- one connection's state: false when pushgate holds no such connection (GatewayWorker
    // ignores a gone client_id silently; a client that just left must not fail the caller) ----

    /** @return bool true, or false for an unknown client_id */
    public static function bindUid($client_id, $uid)
    {
        return self::ofClient('bindUid', array('clientId' => self::name($client_id), 'uid' => self::name($uid)));
    }

    /** Unbinds only if the connection is bound to $uid. @return bool whether a binding was removed */
    public static function unbindUid($client_id, $uid)
    {
        return (bool)self::ofClient('unbindUid', array('clientId' => self::name($client_id), 'uid' => self::name($uid)));
    }

    /** @return int|false 1 (the connection is in the group), or false for an unknown client_id */
    public static function joinGroup($client_id, $group)
    {
        return self::ofClient('joinGroup', array('clientId' => self::name($client_id), 'group' => self::name($group)));
    }

    /** @return int|false 1 if it was in the group, else 0; false for an unknown client_id */
    public static function leaveGroup($client_id, $group)
    {
        return self::ofClient('leaveGroup', array('clientId' => self::name($client_id), 'group' => self::name($group)));
    }

    /** Every member leaves the group. @return int|false how many left; false for an empty $group (as GatewayWorker) */
    public static function ungroup($group)
    {
        return empty($group) ? false : (int)self::call('ungroup', array('group' => self::name($group)));
    }

    /** Replaces the session. @return bool true, or false for an unknown client_id */
    public static function setSession($client_id, array $session)
    {
        return self::ofClient('setSession', array('clientId' => self::name($client_id), 'session' => (object)$session));
    }

    /** A shallow merge into the session; a key set to null is removed. @return bool as setSession */
    public static function updateSession($client_id, array $session)
    {
        return self::ofClient('updateSession', array('clientId' => self::name($client_id), 'session' => (object)$session));
    }

    /** @return array|null the session (array() when none was set), null for an unknown client_id (as GatewayWorker) */
    public static function getSession($client_id)
    {
        try {
            $session = self::call('getSession', array('clientId' => self::name($client_id)));
        } catch (GatewayException $e) {
            if ($e->getErrorCode() === 'E_NO_SUCH_CLIENT') {
                return null;
            }
            throw $e;
        }
        return is_array($session) ? $session : array();
    }

    // ---- pushgate's API directly ----

    /**
     * Any pushgate method with its named params, answering its `result`: for what Gateway:: has
     * no name for (batch, getPresence, an idempotencyKey on a send). Throws GatewayException.
     */
    public static function call($method, array $params = array())
    {
        if (!preg_match('/^[A-Za-z]{1,64}$/', (string)$method)) {
            throw new GatewayException('E_BAD_PARAMS', 'method: must be a pushgate API method name');
        }
        try {
            $body = json_encode((object)$params, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            // Binary or invalid UTF-8: pushgate's API carries JSON text; nothing was sent.
            throw new GatewayException('E_BAD_PARAMS', 'params are not JSON-encodable (' . $e->getMessage() . '); messages must be UTF-8 text', 0, null, false, null, $method, $e);
        }
        $addresses = is_array(static::$registerAddress) ? array_values(static::$registerAddress) : array(static::$registerAddress);
        if (!$addresses) {
            throw new GatewayException('E_BAD_ADDRESS', 'Gateway::$registerAddress is an empty array');
        }
        $refused = array();
        foreach ($addresses as $address) {
            $fp = self::open($address, $url, $error);
            if ($fp === false) {
                $refused[] = $error; // nothing was sent there: the next address may answer
                continue;
            }
            list($status, $text) = self::exchange($fp, $url, $method, $body);
            return self::result($method, $status, $text);
        }
        throw new GatewayException('E_CONNECT_FAILED', 'can not connect to pushgate: ' . implode('; ', $refused), 0, null, false, null, $method);
    }

    // ---- internals ----

    /** A send: an answer that carries `error` (not every outcome known) throws, with the answer attached. */
    private static function send($method, array $params)
    {
        $r = self::call($method, $params);
        if (is_array($r) && isset($r['error'])) {
            $e = (array)$r['error'];
            throw new GatewayException((string)($e['code'] ?? 'E_UNKNOWN'), (string)($e['message'] ?? 'the send did not fully complete'), 200, null, true, $r, $method);
        }
        return $r;
    }

    /** A call on one connection: E_NO_SUCH_CLIENT answers false. */
    private static function ofClient($method, array $params)
    {
        try {
            return self::call($method, $params);
        } catch (GatewayException $e) {
            if ($e->getErrorCode() === 'E_NO_SUCH_CLIENT') {
                return false;
            }
            throw $e;
        }
    }

    /** A group list, for one group or the union over an array of them; array() for an empty $group. */
    private static function perGroup($method, $group)
    {
        if (empty($group)) {
            return array();
        }
        $out = array();
        foreach ((array)$group as $g) {
            $out += self::map(self::call($method, array('group' => self::name($g))));
        }
        return $out;
    }

    /** A JSON list as GatewayWorker's map value => value. */
    private static function map($list)
    {
        $out = array();
        foreach ((array)$list as $v) {
            $out[$v] = $v;
        }
        return $out;
    }

    /** A uid, group or client_id: ints (and Stringables) as strings; anything else as given, for pushgate to refuse. */
    private static function name($v)
    {
        return is_int($v) || is_float($v) || (is_object($v) && method_exists($v, '__toString')) ? (string)$v : $v;
    }

    private static function names(array $list)
    {
        return array_map(array(self::class, 'name'), array_values($list));
    }

    private static function nameOrNames($v)
    {
        return is_array($v) ? self::names($v) : self::name($v);
    }

    private static function noCurrentClient($method, $instead)
    {
        return new GatewayException('E_NOT_APPLICABLE', "Gateway::$method: over HTTP there is no current client; use Gateway::$instead");
    }

    /** Opens a connection to one address; false (with $error) when it cannot: nothing was sent. */
    private static function open($address, &$url, &$error)
    {
        $address = trim((string)$address);
        $u = parse_url(strpos($address, '://') === false ? 'http://' . $address : $address);
        $scheme = is_array($u) ? strtolower($u['scheme'] ?? '') : '';
        if (!isset($u['host']) || ($scheme !== 'http' && $scheme !== 'https') || isset($u['query']) || isset($u['user'])) {
            throw new GatewayException('E_BAD_ADDRESS', "Gateway::\$registerAddress: expected pushgate's base URL such as http://127.0.0.1:1234, got " . var_export($address, true));
        }
        $tls = $scheme === 'https';
        $port = $u['port'] ?? ($tls ? 443 : 80);
        $url = array(
            'origin' => "$scheme://{$u['host']}:$port",
            'host' => $u['host'] . (isset($u['port']) ? ":$port" : ''),
            'path' => rtrim($u['path'] ?? '', '/'),
        );
        $context = stream_context_create($tls ? array('ssl' => array('peer_name' => trim($u['host'], '[]'))) : array());
        $errno = 0;
        $errstr = '';
        $fp = @stream_socket_client(($tls ? 'tls://' : 'tcp://') . $u['host'] . ':' . $port, $errno, $errstr, (float)static::$connectTimeout, STREAM_CLIENT_CONNECT, $context);
        if ($fp === false) {
            $error = $url['origin'] . ' ' . ($errstr !== '' ? $errstr : "error $errno") . ' (connect timeout ' . static::$connectTimeout . ' s)';
            return false;
        }
        return $fp;
    }

    /** One HTTP/1.1 request on an open connection (Connection: close): [status, body]. */
    private static function exchange($fp, array $url, $method, $body)
    {
        $key = trim((string)static::$secretKey);
        if (preg_match('/[\x00-\x1f\x7f]/', $key)) {
            fclose($fp);
            throw new GatewayException('E_BAD_PARAMS', 'Gateway::$secretKey: must not contain control characters', 0, null, false, null, $method);
        }
        $request = "POST {$url['path']}/api/$method HTTP/1.1\r\n"
            . "Host: {$url['host']}\r\n"
            . "Content-Type: application/json\r\n"
            . "Accept: application/json\r\n"
            . 'Content-Length: ' . strlen($body) . "\r\n"
            . ($key !== '' ? "Authorization: Bearer $key\r\n" : '')
            . "User-Agent: pushgate-php-gateway\r\n"
            . "Connection: close\r\n\r\n"
            . $body;
        $deadline = microtime(true) + (float)static::$timeout;
        $fail = function ($code, $message, $unknown) use ($fp, $method, $url) {
            fclose($fp);
            return new GatewayException($code, "$message ({$url['origin']})", 0, null, $unknown, null, $method);
        };
        while ($request !== '') {
            self::waitUntil($fp, $deadline);
            $n = @fwrite($fp, $request);
            if ($n === false || $n === 0) {
                // An incomplete body is never run: pushgate did nothing.
                throw stream_get_meta_data($fp)['timed_out'] || microtime(true) >= $deadline
                    ? $fail('E_TIMEOUT', 'the request could not be sent within ' . static::$timeout . ' s', false)
                    : $fail('E_CONNECTION_LOST', 'the connection closed while sending', false);
            }
            $request = (string)substr($request, $n);
        }
        // From here pushgate has the whole request: without its answer the outcome is unknown.
        $in = '';
        $need = null;
        while (!feof($fp)) {
            if (microtime(true) >= $deadline) {
                throw $fail('E_TIMEOUT', 'no answer within ' . static::$timeout . ' s (Gateway::$timeout): the call may have taken effect', true);
            }
            self::waitUntil($fp, $deadline);
            $chunk = @fread($fp, 65536);
            if ($chunk === false || $chunk === '') {
                // A timed-out read answers false (PHP 8) or '' (PHP 7).
                if (stream_get_meta_data($fp)['timed_out']) {
                    throw $fail('E_TIMEOUT', 'no answer within ' . static::$timeout . ' s (Gateway::$timeout): the call may have taken effect', true);
                }
                if ($chunk === false) {
                    break;
                }
                continue;
            }
            $in .= $chunk;
            if (strlen($in) > (int)static::$maxAnswerBytes) {
                throw $fail('E_BAD_RESPONSE', 'the answer is over ' . static::$maxAnswerBytes . ' bytes (Gateway::$maxAnswerBytes): the call may have taken effect', true);
            }
            if ($need === null && ($end = strpos($in, "\r\n\r\n")) !== false) {
                $h = self::headers(substr($in, 0, $end));
                $need = isset($h['content-length']) && !isset($h['transfer-encoding']) ? $end + 4 + (int)$h['content-length'] : -1;
            }
            if ($need !== null && $need >= 0 && strlen($in) >= $need) {
                break; // the whole answer, even if the server keeps the connection open
            }
        }
        fclose($fp);
        $end = strpos($in, "\r\n\r\n");
        if ($end === false || !preg_match('#^HTTP/\d(?:\.\d)? (\d{3})#', $in, $m)) {
            throw new GatewayException($in === '' ? 'E_CONNECTION_LOST' : 'E_BAD_RESPONSE', ($in === '' ? 'the connection closed without an answer' : 'not an HTTP answer')
                . ": the call may have taken effect ({$url['origin']})", 0, null, true, null, $method);
        }
        $h = self::headers(substr($in, 0, $end));
        $text = (string)substr($in, $end + 4);
        if (stripos($h['transfer-encoding'] ?? '', 'chunked') !== false) {
            $text = self::unchunk($text);
        } elseif (isset($h['content-length']) && strlen($text) < (int)$h['content-length']) {
            $text = null;
        }
        if ($text === null) {
            throw new GatewayException('E_CONNECTION_LOST', "the answer was cut short: the call may have taken effect ({$url['origin']})", (int)$m[1], null, true, null, $method);
        }
        return array((int)$m[1], $text);
    }

    /** The read/write timeout of the next socket operation: what is left until $deadline. */
    private static function waitUntil($fp, $deadline)
    {
        $left = max(0.001, $deadline - microtime(true));
        stream_set_timeout($fp, (int)$left, (int)(($left - (int)$left) * 1000000));
    }

    /** Header lines → lowercased name => value (the status line is skipped: it has no colon first). */
    private static function headers($head)
    {
        $out = array();
        foreach (explode("\r\n", $head) as $i => $line) {
            $colon = strpos($line, ':');
            if ($i > 0 && $colon !== false) {
                $out[strtolower(trim(substr($line, 0, $colon)))] = trim(substr($line, $colon + 1));
            }
        }
        return $out;
    }

    /** A chunked body decoded; null when it was cut short. */
    private static function unchunk($text)
    {
        $out = '';
        $at = 0;
        while (true) {
            $eol = strpos($text, "\r\n", $at);
            if ($eol === false) {
                return null;
            }
            $size = hexdec(trim(explode(';', substr($text, $at, $eol - $at))[0]));
            if ($size === 0) {
                return $out;
            }
            if (strlen($text) < $eol + 2 + $size) {
                return null;
            }
            $out .= substr($text, $eol + 2, $size);
            $at = $eol + 2 + $size + 2;
        }
    }

    /** pushgate's answer: `result`, or a GatewayException with its error (202 or outcome "unknown": may have acted). */
    private static function result($method, $status, $text)
    {
        $json = json_decode($text, true, 512, JSON_BIGINT_AS_STRING);
        if (is_array($json) && isset($json['error']) && is_array($json['error'])) {
            $e = $json['error'];
            throw new GatewayException(
                (string)($e['code'] ?? 'E_UNKNOWN'), (string)($e['message'] ?? "HTTP $status"), $status,
                isset($e['field']) ? (string)$e['field'] : null, ($e['outcome'] ?? null) === 'unknown' || $status === 202, null, $method
            );
        }
        if ($status !== 200 || !is_array($json) || !array_key_exists('result', $json)) {
            // Not pushgate's (a proxy's error page, another service on that port): whether the call
            // ran is not known (a proxy's 504 may come after pushgate acted).
            $snippet = substr(preg_replace('/\s+/', ' ', $text), 0, 200);
            throw new GatewayException('E_BAD_RESPONSE', "HTTP $status, not a pushgate answer: $snippet", $status, null, true, null, $method);
        }
        return $json['result'];
    }
}
